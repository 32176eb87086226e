/**
 * The progress bar: bytes done out of the total, rate and ETA, on stderr.
 * Shown only when stderr is a terminal, never with --json or --quiet, and by
 * default only for inputs large enough to take a moment.
 */
import type { SingleBar } from 'cli-progress'
import { formatBytes } from './format'

/** Below this much input, verification is over before a bar would be read. */
export const PROGRESS_MIN_BYTES = 64 * 1024 * 1024

export type ProgressMode = 'auto' | 'always' | 'never'

export interface Progress {
  /** Pass to the verifier; undefined when no bar can be shown. */
  onProgress?: (done: number, total: number) => void
  /** Removes the bar (call before printing the report). */
  stop(): void
}

/**
 * A progress reporter for `mode`, given whether output is quiet or JSON.
 * The bar is created on the first report, once the total is known.
 */
export function progress(mode: ProgressMode, silent: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (mode === 'never' || silent || !stream.isTTY) return { stop() {} }
  let bar: SingleBar | null = null
  let decided = false
  let started = 0
  const stop = () => {
    bar?.stop()
    bar = null
  }
  return {
    stop,
    onProgress(done, total) {
      if (!decided) {
        decided = true
        if (mode === 'auto' && total < PROGRESS_MIN_BYTES) return
        // Loaded with the first bar: most runs show none, and start sooner without it (#17).
        const { Presets, SingleBar } = require('cli-progress') as typeof import('cli-progress')
        bar = new SingleBar(
          { stream, format: ' {bar} {percentage}% | {doneText} of {totalText} | {rate} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 40, fps: 8 },
          Presets.shades_classic,
        )
        started = Date.now()
        bar.start(total, 0, { doneText: formatBytes(0), totalText: formatBytes(total), rate: '…' })
      }
      if (!bar) return
      const seconds = (Date.now() - started) / 1000
      bar.update(done, { doneText: formatBytes(done), rate: seconds > 0.2 ? `${formatBytes(done / seconds)}/s` : '…' })
    },
  }
}
