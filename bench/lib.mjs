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
 * Measures every peer `rounds` times, rotating the order so that no peer
 * always runs first; returns one row per peer with its median and the ratio
 * to `baseline`'s median.
 */
export async function interleaved(peers, rounds, baseline, measure) {
  const results = new Map(peers.map((p) => [p.name, []]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(k + r) % peers.length]
      results.get(peer.name).push(await measure(peer))
    }
  }
  const base = median(results.get(baseline))
  return peers.map((p) => {
    const linesPerSec = Math.round(median(results.get(p.name)))
    return { name: p.name, linesPerSec, ratio: Math.round((linesPerSec / base) * 1000) / 1000, peer: baseline }
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
export async function timePino({ target, options, records, caller, inspect, turn = 0 }) {
  const pino = require('pino')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-'))
  try {
    const transport = pino.transport({ target, options: options(dir), caller })
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
