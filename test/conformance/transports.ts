// The two transports as the shared conformance suite sees them: a child
// script that logs through the real logger, and what each makes of a line.
import { escapeLine } from '@chainlog/core/format'

export interface ShutdownCase {
  name: string
  scenario: 'normal' | 'exit' | 'uncaught' | 'flush' | 'signal'
  signal?: NodeJS.Signals
  exitCode: number
  count: number
}

export interface TransportUnderTest {
  name: string
  /** Helper script in test/helpers. */
  script: string
  /** Options giving small files, so that tamper checks span a rotation. */
  smallFiles: object
  /** Options choosing the chain algorithm and key file. */
  algorithm(alg: string, keyFile?: string): object
  /** The stored lines the transport must produce for one line the logger emitted. */
  stored(line: string): string[]
  shutdown: ShutdownCase[]
}

/** The same shutdown cases for both, each in the logger's own idiom (see the helper scripts). */
const shutdown = (flushName: string): ShutdownCase[] => [
  { name: 'normal exit', scenario: 'normal', exitCode: 0, count: 2000 },
  { name: 'uncaught exception', scenario: 'uncaught', exitCode: 1, count: 2000 },
  { name: flushName, scenario: 'flush', exitCode: 0, count: 2000 },
  { name: 'SIGTERM', scenario: 'signal', signal: 'SIGTERM', exitCode: 143, count: 5000 },
  { name: 'SIGINT', scenario: 'signal', signal: 'SIGINT', exitCode: 130, count: 5000 },
]

export const transports: TransportUnderTest[] = [
  {
    name: '@chainlog/pino (worker thread)',
    script: 'pino-child.cjs',
    smallFiles: { size: '6k' },
    algorithm: (alg, keyFile) => ({ algorithm: alg, ...(keyFile && { keyFile }) }),
    // pino's output is a byte stream of LF-ended lines: a LF inside a line ends
    // it, and thread-stream encodes the string as UTF-8, so a lone surrogate
    // arrives as U+FFFD. Each piece is then stored by FORMAT.md §3.
    stored: (line) => line.split('\n').map((piece) => escapeLine(piece.toWellFormed())),
    shutdown: [
      ...shutdown('logger.flush(cb) then process.exit()'),
      // pino ends its transport on exit. winston has no such hook: entries still
      // in its logger's stream buffers at process.exit() are lost with any of
      // its transports, so winston's contract is the 'finish' case above.
      { name: 'process.exit() right after a burst', scenario: 'exit', exitCode: 0, count: 20000 },
    ],
  },
  {
    name: '@chainlog/winston',
    script: 'winston-child.cjs',
    smallFiles: { maxSize: 6144 },
    algorithm: (alg, keyFile) => ({ algorithm: alg, ...(keyFile && { keyFile }) }),
    // winston hands over info[MESSAGE] whole: one record, escaped if needed.
    stored: (line) => [escapeLine(line)],
    shutdown: shutdown("logger.end(), process.exit() in 'finish'"),
  },
]
