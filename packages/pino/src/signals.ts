import { constants } from 'node:os'

/** What exitOnSignals needs of a logger: pino's `logger.flush(cb)`. */
export interface Flushable {
  flush(callback?: (err?: Error) => void): void
}

export interface ExitOnSignalsOptions {
  /** Signals to handle. Default `['SIGTERM', 'SIGINT']`: what `docker stop`, Kubernetes and Ctrl-C send. */
  signals?: NodeJS.Signals[]
  /** Exit anyway after this many ms if the flush does not finish. Default 10000. */
  timeout?: number
}

/**
 * Makes SIGTERM and SIGINT flush the logger, then exit.
 *
 * Node's default action for these signals kills the process at once, which
 * drops every line a transport still buffers (pino's worker never hears of
 * it). With this helper the signal calls `logger.flush()`, then
 * `process.exit(128 + signal number)` as a shell would report it; pino then
 * ends the transport on exit, which closes the chain's file. A second signal
 * during the flush exits at once. Returns a function that removes the handlers.
 *
 * @example
 * const logger = pino(pino.transport({ target: '@chainlog/pino', options: { file: 'logs/app.log' } }))
 * exitOnSignals(logger)
 */
export function exitOnSignals(logger: Flushable, options: ExitOnSignalsOptions = {}): () => void {
  if (!logger || typeof logger.flush !== 'function') throw new TypeError('exitOnSignals(logger) expects a pino logger (an object with flush(cb))')
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const timeout = options.timeout ?? 10_000
  if (!Array.isArray(signals) || signals.some((s) => typeof constants.signals[s] !== 'number')) throw new TypeError(`signals must be signal names such as 'SIGTERM'; got ${JSON.stringify(signals)}`)
  if (!Number.isInteger(timeout) || timeout < 0) throw new TypeError(`timeout must be a whole number of milliseconds; got ${JSON.stringify(timeout)}`)
  let exiting = false
  const handler = (signal: NodeJS.Signals) => {
    const code = 128 + constants.signals[signal]
    if (exiting) process.exit(code)
    exiting = true
    const timer = setTimeout(() => {
      process.stderr.write(`@chainlog/pino: flush did not finish within ${timeout} ms after ${signal}; exiting\n`)
      process.exit(code)
    }, timeout)
    logger.flush((err) => {
      clearTimeout(timer)
      if (err) process.stderr.write(`@chainlog/pino: flush failed after ${signal}: ${err.message}\n`)
      process.exit(code)
    })
  }
  for (const s of signals) process.on(s, handler)
  return () => {
    for (const s of signals) process.off(s, handler)
  }
}
