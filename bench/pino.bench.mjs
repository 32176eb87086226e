// pino + @chainlog/pino against pino's own file transport and pino-roll:
// the same 200k records (~140-byte lines) in the same run, each through a real
// pino.transport() worker thread, timed from the first log call until the
// transport has closed (every line written). Prints lines/s and the ratio to
// pino-roll. Run alone: `node bench/pino.bench.mjs`; or import run().
import { once } from 'node:events'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const pino = require('pino')
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

async function timeOne(peer, records) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-'))
  try {
    const transport = pino.transport({ target: peer.target, options: peer.options(dir), caller: here })
    await once(transport, 'ready')
    // pino unrefs the worker once it is ready; keep this process waiting for it.
    transport.ref()
    const logger = pino({ base: { pid: 4242, hostname: 'bench' } }, transport)
    const start = process.hrtime.bigint()
    for (const r of records) logger.info(r, 'request completed')
    const closed = once(transport, 'close')
    transport.end()
    await closed
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
    return { linesPerSec: records.length / seconds, bytes }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs every peer ROUNDS times, interleaved; reports each peer's median. */
export async function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const results = new Map(peers.map((p) => [p.name, []]))
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so that no peer always runs first (or last).
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(k + r) % peers.length]
      results.get(peer.name).push((await timeOne(peer, records)).linesPerSec)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const base = median(results.get(BASELINE))
  return peers.map((p) => {
    const linesPerSec = Math.round(median(results.get(p.name)))
    return { name: p.name, linesPerSec, ratio: Math.round((linesPerSec / base) * 100) / 100, peer: BASELINE }
  })
}

export function formatTable(rows, title) {
  const lines = [title, `${'transport'.padEnd(28)}${'lines/s'.padStart(12)}${'ratio'.padStart(8)}`]
  for (const r of rows) lines.push(`${r.name.padEnd(28)}${r.linesPerSec.toLocaleString('en-US').padStart(12)}${(r.ratio.toFixed(2) + 'x').padStart(8)}`)
  return lines.join('\n')
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rows = await run()
  console.log(formatTable(rows, `pino, ${RECORDS.toLocaleString('en-US')} records, median of ${ROUNDS} rounds, ratio to pino-roll (target for @chainlog/pino: >= 0.90x)`))
}
