// winston + @chainlog/winston against winston's File transport and
// winston-daily-rotate-file: the same 200k records (~140-byte JSON lines) in
// the same run, timed from the first log call until every line is in the
// file (for chainlog: the logger's 'finish'; the peers' 'finish' can come
// before their file stream has written, so for them we also wait until the
// files hold every byte). Prints lines/s and the ratio to
// winston-daily-rotate-file. Run alone: `node bench/winston.bench.mjs`; or import run().
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { formatTable, hashPaths, interleaved, withEnv } from './lib.mjs'

const require = createRequire(import.meta.url)
const winston = require('winston')
const DailyRotateFile = require('winston-daily-rotate-file')
const { ChainlogTransport } = require('@chainlog/winston')
const here = fileURLToPath(import.meta.url)

export const RECORDS = 200_000
const ROUNDS = 3
const BASELINE = 'winston + daily-rotate-file'

/** The records every peer logs, built once: JSON lines of about 140 bytes. */
export function makeRecords(n = RECORDS) {
  const routes = ['/api/users', '/api/orders', '/health', '/api/items/42']
  return Array.from({ length: n }, (_, i) => ({ req: i, route: routes[i % routes.length], status: 200 + (i % 3), ms: i % 97, pid: 4242, host: 'bench' }))
}

const peers = [
  // Each hash path of #17 (native where it is built, and the JS fallback).
  ...hashPaths().map((p) => ({ name: `winston + @chainlog/winston${p.suffix}`, chainlog: true, make: (dir) => withEnv(p.env, () => new ChainlogTransport({ filename: path.join(dir, 'app.log'), maxSize: '10m' })) })),
  { name: 'winston + File', make: (dir) => new winston.transports.File({ filename: path.join(dir, 'app.log') }) },
  { name: BASELINE, make: (dir) => new DailyRotateFile({ filename: path.join(dir, 'app-%DATE%.log'), maxSize: '10m' }) },
]

// Every log file, whatever its rotation suffix; not winston-daily-rotate-file's audit JSON.
const dirBytes = (dir) => fs.readdirSync(dir).filter((f) => !f.endsWith('.json')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)

async function timeOne(peer, records, expectedBytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-'))
  try {
    const transport = peer.make(dir)
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] })
    if (peer.chainlog) await transport.ready
    else await sleep(50) // let the peer open its file
    const start = process.hrtime.bigint()
    for (const r of records) logger.info('request completed', r)
    await new Promise((resolve) => (logger.on('finish', resolve), logger.end()))
    const deadline = Date.now() + 60_000
    if (!peer.chainlog) {
      while (dirBytes(dir) < expectedBytes) {
        if (Date.now() > deadline) throw new Error(`${peer.name}: ${dirBytes(dir)} of ${expectedBytes} bytes written after 60 s`)
        await sleep(1)
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    return records.length / seconds
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs every peer ROUNDS times, each run next to one of winston-daily-rotate-file (lib.mjs interleaved); reports each peer's median and ratio. */
export async function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const json = winston.format.json()
  const MESSAGE = Symbol.for('message')
  const expectedBytes = records.reduce((n, r) => n + Buffer.byteLength(json.transform({ level: 'info', message: 'request completed', ...r }, json.options)[MESSAGE]) + os.EOL.length, 0)
  return interleaved(peers, rounds, BASELINE, (peer) => timeOne(peer, records, expectedBytes))
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rows = await run()
  console.log(formatTable(rows, `winston, ${RECORDS.toLocaleString('en-US')} records, median of ${ROUNDS} rounds, ratio to winston-daily-rotate-file (#17's target for @chainlog/winston: >= 1.2x)`))
}
