// pino + @chainlog/pino against pino's own file transport and pino-roll:
// the same 200k records (~140-byte lines) in the same run, each through a real
// pino.transport() worker thread, timed from the first log call until the
// transport has closed (every line written). Prints lines/s and the ratio to
// pino-roll, for two workloads:
//
// - steady: 100 lines per turn of the event loop, as a service logs (a few
//   lines per request, yielding in between); the transport works alongside.
//   This is the throughput the >= 0.9x target is about.
// - burst: all 200k lines in one synchronous loop. thread-stream keeps every
//   line in the main thread until the loop yields, so each transport does all
//   of its work after the loop. A chained transport must then hash every
//   record, one after another; the "bound" row is the best ratio any of them
//   can reach: pino-roll's time plus SHA-256 of each record, measured in the
//   same run.
//
// A chained file holds about twice pino-roll's bytes (each record is its line
// and 130 bytes of prev, hash and separators). The row "pino-roll writing a
// chain's bytes" is pino-roll with each line made as long as its record, with
// no hashing: what those bytes cost to write on this machine, in the same run.
//
// A second table (#18) isolates the transport's own work: each variant of
// @chainlog/pino gets the same pino output, in the chunks thread-stream hands
// a worker, in this thread, timed in CPU time (which a busy machine disturbs
// far less than wall time). Rows: the stream built on pino-abstract-transport,
// the hand-written stream it replaced, and one core write() per line.
//
// Run alone: `node bench/pino.bench.mjs`; or import run().
import { hash } from 'node:crypto'
import { once } from 'node:events'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable, hashPaths, interleaved, median, timePino, withEnv } from './lib.mjs'

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

const chained = (dir) => ({ file: path.join(dir, 'app.log'), size: '10m' })
const rolled = (dir) => ({ file: path.join(dir, 'app'), extension: '.log', size: '10m' })
const peers = [
  // Each hash path of #17 (native where it is built, and the JS fallback).
  ...hashPaths().map((p) => ({ name: `pino + @chainlog/pino${p.suffix}`, target: '@chainlog/pino', options: chained, env: p.env })),
  // #18: the hand-written stream it replaced, and pino-abstract-transport with one core write() per line.
  { name: 'pino + @chainlog/pino before #18', target: path.join(path.dirname(here), 'legacy-destination.mjs'), options: chained },
  { name: 'pino + @chainlog/pino, one write per line', target: path.join(path.dirname(here), 'per-line-destination.mjs'), options: chained },
  // What writing a chain's bytes costs here, without the chain: pino-roll with each line made as long as its record.
  { name: 'pino + pino-roll writing a chain\'s bytes (no hashing)', target: path.join(path.dirname(here), 'chain-bytes-roll-destination.mjs'), options: rolled },
  { name: 'pino + pino/file', target: 'pino/file', options: (dir) => ({ destination: path.join(dir, 'app.log') }) },
  { name: BASELINE, target: 'pino-roll', options: rolled },
]

const BEFORE = 'before #18: hand-written stream'
const variant = (file) => path.join(path.dirname(here), file)
const cpuPeers = [
  ...hashPaths().map((p) => ({ name: `@chainlog/pino${p.suffix}`, module: '@chainlog/pino', env: p.env })),
  { name: BEFORE, module: variant('legacy-destination.mjs') },
  { name: 'one core write() per line', module: variant('per-line-destination.mjs') },
]

/**
 * Records per CPU-second of each transport variant alone: pino's output for
 * `records`, in chunks of 64 KiB as thread-stream hands them to a worker,
 * written to the stream in this thread until it has closed.
 */
export async function cpuRun({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const pino = require('pino')
  let text = ''
  const chunks = []
  const logger = pino({ base: { pid: 4242, hostname: 'bench' } }, { write: (s) => (text += s).length >= 65536 && (chunks.push(text), (text = '')) })
  for (const r of records) logger.info(r, 'request completed')
  if (text) chunks.push(text)
  const rows = await interleaved(cpuPeers, rounds, BEFORE, async (peer) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-'))
    try {
      const make = (await import(peer.module)).default
      const stream = await withEnv(peer.env, () => make({ file: path.join(dir, 'app.log'), size: '10m' }))
      const start = process.cpuUsage()
      for (const chunk of chunks) if (!stream.write(chunk)) await once(stream, 'drain')
      const closed = once(stream, 'close')
      stream.end()
      await closed
      const { user, system } = process.cpuUsage(start)
      return records.length / ((user + system) / 1e6)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
  return rows
}

/** Lines per event-loop turn in the steady workload. */
export const TURN = 100

/** Seconds to SHA-256 every record `prev|line` of `records` one after another, as a chain must (median of 3). */
function hashSeconds(records) {
  const pino = require('pino')
  const lines = []
  const logger = pino({ base: { pid: 4242, hostname: 'bench' } }, { write: (s) => lines.push(s.slice(0, -1)) })
  for (const r of records) logger.info(r, 'request completed')
  const times = []
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint()
    let prev = '0'.repeat(64)
    for (const line of lines) prev = hash('sha256', prev + '|' + line, 'hex')
    times.push(Number(process.hrtime.bigint() - start) / 1e9)
  }
  return median(times)
}

/**
 * Runs every peer `rounds` times per workload, each run next to one of
 * pino-roll (lib.mjs interleaved); reports each peer's median and its ratio
 * to pino-roll, and the burst bound.
 */
export async function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const rows = []
  for (const [workload, turn] of [['steady', TURN], ['burst', 0]]) {
    const named = peers.map((p) => ({ ...p, name: `${p.name}, ${workload}` }))
    const res = await interleaved(named, rounds, `${BASELINE}, ${workload}`, async (peer) => (await timePino({ target: peer.target, options: peer.options, records, caller: here, turn, env: peer.env })).linesPerSec)
    rows.push(...res.map((r) => ({ ...r, workload })))
    if (turn === 0) {
      // The baseline's row is its own peer.
      const roll = res.find((r) => r.name === r.peer)
      const seconds = records.length / roll.linesPerSec + hashSeconds(records)
      const linesPerSec = Math.round(records.length / seconds)
      rows.push({ name: 'bound: pino-roll + SHA-256 of every record, burst', linesPerSec, ratio: Math.round((linesPerSec / roll.linesPerSec) * 1000) / 1000, peer: roll.name, workload, bound: true })
    }
  }
  return rows
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rows = await run()
  console.log(formatTable(rows, `pino, ${RECORDS.toLocaleString('en-US')} records, median of ${ROUNDS} rounds, ratio to pino-roll (#17's targets for @chainlog/pino: steady >= 1.0x, burst >= 0.95x)`))
  const cpu = await cpuRun()
  console.log('\n' + formatTable(cpu, `@chainlog/pino's own work (#18): ${RECORDS.toLocaleString('en-US')} records in 64 KiB chunks, records per CPU-second in one thread, median of ${ROUNDS} rounds, ratio to the stream before #18`).replace('lines/s', ' rec/cpu-s'))
}
