// pino + @chainlog/pino against pino's own file transport and pino-roll:
// the same 200k records (~140-byte lines) in the same run, each through a real
// pino.transport() worker thread, timed from the first log call until the
// transport has closed (every line written). Prints lines/s and the ratio to
// pino-roll. Run alone: `node bench/pino.bench.mjs`; or import run().
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable, interleaved, timePino } from './lib.mjs'

const require = createRequire(import.meta.url)
const here = fileURLToPath(import.meta.url)

export const RECORDS = 200_000
const ROUNDS = 3
const BASELINE = 'pino + pino-roll'

/** The records every peer logs, built once: pino lines of about 140 bytes. */
export function makeRecords(n = RECORDS) {
  const routes = ['/api/users', '/api/orders', '/health', '/api/items/42']
  return Array.from({ length: n }, (_, i) => ({ req: i, route: routes[i % routes.length], status: 200 + (i % 3), ms: i % 97 }))
}

const peers = [
  { name: 'pino + @chainlog/pino', target: '@chainlog/pino', options: (dir) => ({ file: path.join(dir, 'app.log'), size: '10m' }) },
  { name: 'pino + pino/file', target: 'pino/file', options: (dir) => ({ destination: path.join(dir, 'app.log') }) },
  { name: BASELINE, target: 'pino-roll', options: (dir) => ({ file: path.join(dir, 'app'), extension: '.log', size: '10m' }) },
]

/** Runs every peer `rounds` times, interleaved; reports each peer's median and its ratio to pino-roll. */
export function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  return interleaved(peers, rounds, BASELINE, async (peer) => (await timePino({ target: peer.target, options: peer.options, records, caller: here })).linesPerSec)
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rows = await run()
  console.log(formatTable(rows, `pino, ${RECORDS.toLocaleString('en-US')} records, median of ${ROUNDS} rounds, ratio to pino-roll (target for @chainlog/pino: >= 0.90x)`))
}
