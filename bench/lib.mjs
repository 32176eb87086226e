// What the benchmarks share: medians, interleaved rounds, the table they
// print, and one timed pino.transport() run.
import { once } from 'node:events'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

const require = createRequire(import.meta.url)

/** Median (the lower middle for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

/**
 * The ratio of `values` to `base`, round by round (values[r] / base[r]: two
 * runs of the same round, close in time), as its median and its spread
 * (lowest and highest). A shared machine's speed drifts between rounds; a
 * ratio of two runs of one round holds through that drift better than a
 * ratio of medians taken over all the rounds. `higherIsFaster`: values are
 * rates (lines/s); false for times, whose ratio is base / value.
 */
export function pairedRatio(values, base, higherIsFaster = true) {
  const ratios = values.map((v, r) => (higherIsFaster ? v / base[r] : base[r] / v))
  const round3 = (x) => Math.round(x * 1000) / 1000
  return { ratio: round3(median(ratios)), spread: [round3(Math.min(...ratios)), round3(Math.max(...ratios))] }
}

/**
 * Measures every peer `rounds` times, each run next to a run of `baseline`
 * of its own (in turn before and after it), the peers in a rotating order;
 * returns one row per peer with its median over all its runs, and its ratio
 * to `baseline` with the spread, from those pairs of neighbouring runs
 * (pairedRatio): on a shared machine whose speed moves within seconds, two
 * runs side by side see the same machine far more often than two runs a
 * round apart.
 */
export async function interleaved(peers, rounds, baseline, measure) {
  const base = peers.find((p) => p.name === baseline)
  const others = peers.filter((p) => p !== base)
  const runs = new Map(peers.map((p) => [p.name, []]))
  /** Per peer, its runs and the baseline's run beside each. */
  const pairs = new Map(others.map((p) => [p.name, { values: [], base: [] }]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < others.length; k++) {
      const peer = others[(k + r) % others.length]
      const order = (r + k) % 2 === 0 ? [base, peer] : [peer, base]
      for (const p of order) {
        const value = await measure(p)
        runs.get(p.name).push(value)
        pairs.get(peer.name)[p === base ? 'base' : 'values'].push(value)
      }
    }
  }
  return peers.map((p) => {
    const paired = p === base ? { ratio: 1, spread: [1, 1] } : pairedRatio(pairs.get(p.name).values, pairs.get(p.name).base)
    return { name: p.name, linesPerSec: Math.round(median(runs.get(p.name))), ...paired, peer: baseline }
  })
}

export function formatTable(rows, title) {
  const width = Math.max(28, ...rows.map((r) => r.name.length + 2))
  const lines = [title, `${'transport'.padEnd(width)}${'lines/s'.padStart(12)}${'ratio'.padStart(8)}`]
  for (const r of rows) lines.push(`${r.name.padEnd(width)}${r.linesPerSec.toLocaleString('en-US').padStart(12)}${(r.ratio.toFixed(2) + 'x').padStart(8)}`)
  return lines.join('\n')
}

/**
 * Logs `records` through pino and a worker-thread transport, timed from the
 * first log call until the transport has closed. `options(dir)` builds the
 * transport's options in a fresh temporary directory; `inspect(dir)` may read
 * the files before they are removed.
 *
 * `turn` is how many lines are logged per turn of the event loop: like a
 * service, which logs a few lines per request and yields in between, so the
 * transport works alongside. 0 logs everything in one synchronous loop: a
 * burst, during which pino's thread-stream holds every line in the main
 * thread, so the transport only starts once the loop ends.
 */
export async function timePino({ target, options, records, caller, inspect, turn = 0, env }) {
  const pino = require('pino')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-'))
  try {
    const transport = withEnv(env, () => pino.transport({ target, options: options(dir), caller }))
    await once(transport, 'ready')
    // pino unrefs the worker once it is ready; keep this process waiting for it.
    transport.ref()
    const logger = pino({ base: { pid: 4242, hostname: 'bench' } }, transport)
    const start = process.hrtime.bigint()
    if (turn > 0) {
      for (let i = 0; i < records.length; i += turn) {
        const end = Math.min(i + turn, records.length)
        for (let j = i; j < end; j++) logger.info(records[j], 'request completed')
        await new Promise(setImmediate)
      }
    } else {
      for (const r of records) logger.info(r, 'request completed')
    }
    const closed = once(transport, 'close')
    transport.end()
    await closed
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    return { linesPerSec: records.length / seconds, ...(inspect && inspect(dir)) }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The hash paths to measure side by side (#17): native where @chainlog/native
 * is built (asked for explicitly, so that a native row is never the fallback),
 * then the JS fallback. `suffix` names the row; `env` is what selects it.
 */
export function hashPaths() {
  const js = { suffix: ' (js path)', env: { CHAINLOG_HASH_PATH: 'js' } }
  try {
    require('@chainlog/native')
    return [{ suffix: ' (native)', env: { CHAINLOG_HASH_PATH: 'native' } }, js]
  } catch {
    return [js]
  }
}

/**
 * Runs `make()` with `env` in process.env, then restores it (once the promise
 * `make()` returns settles, if it returns one). A chainlog writer takes its
 * hash path when it is made, and a worker thread copies the environment when
 * it starts, so whatever `make()` creates keeps the path.
 */
export function withEnv(env, make) {
  const saved = Object.fromEntries(Object.keys(env ?? {}).map((k) => [k, process.env[k]]))
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  Object.assign(process.env, env)
  let result
  try {
    result = make()
  } catch (err) {
    restore()
    throw err
  }
  if (result && typeof result.then === 'function') return result.finally(restore)
  restore()
  return result
}
