import { constants } from 'node:os'

/**
 * What exitOnSignals needs of a logger: pino's `logger.flush(cb)`, or a
 * `flush()` that returns a promise (the winston transport's).
 */
export interface SignalFlushable {
  flush(callback?: (err?: Error) => void): unknown
}

export interface ExitOnSignalsOptions {
  /** Signals to handle. Default `['SIGTERM', 'SIGINT']`: what `docker stop`, Kubernetes and Ctrl-C send. */
  signals?: NodeJS.Signals[]
  /** Exit anyway after this many ms if closing and flushing do not finish. Default 10000. */
  timeout?: number
  /**
   * The application's own shutdown, run first on a signal; the logger is
   * flushed once it settles. E.g. `() => app.close()` for fastify, which stops
   * accepting connections and lets requests in flight finish (and log).
   * Give it here instead of installing a signal handler of your own: two
   * handlers race, and the exit of this one would cut yours short (issue #13).
   */
  close?: () => unknown
}

/**
 * Makes SIGTERM and SIGINT close the application (`close`), flush the logger,
 * then exit.
 *
 * Node's default action for these signals kills the process at once, which
 * drops every line a transport still buffers (pino's worker never hears of
 * it). With this helper the signal runs `close()` and waits for it, then
 * calls `logger.flush()` so that the lines logged while closing are written
 * too, then `process.exit(128 + signal number)` as a shell would report it;
 * pino then ends the transport on exit, which closes the chain's file. A
 * `close()` that throws or rejects is reported on stderr, and the log is
 * flushed all the same. A second signal during all this exits at once; so
 * does `timeout`. Returns a function that removes the handlers. `who`
 * names the package in those stderr lines.
 *
 * @example
 * const app = Fastify({ logger: { transport: { target: '@chainlog/pino', options: { file: 'logs/app.log' } } } })
 * exitOnSignals(app.log, { close: () => app.close() })
 */
export function exitOnSignals(logger: SignalFlushable, options: ExitOnSignalsOptions = {}, who = '@chainlog/core'): () => void {
  if (!logger || typeof logger.flush !== 'function') throw new TypeError('exitOnSignals(logger) expects a pino logger or a chainlog transport (an object with flush)')
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const timeout = options.timeout ?? 10_000
  const close = options.close
  if (!Array.isArray(signals) || signals.some((s) => typeof constants.signals[s] !== 'number')) throw new TypeError(`signals must be signal names such as 'SIGTERM'; got ${JSON.stringify(signals)}`)
  if (!Number.isInteger(timeout) || timeout < 0) throw new TypeError(`timeout must be a whole number of milliseconds; got ${JSON.stringify(timeout)}`)
  if (close !== undefined && typeof close !== 'function') throw new TypeError(`close must be a function (the application's shutdown, e.g. () => app.close()); got ${typeof close}`)
  let exiting = false
  const handler = (signal: NodeJS.Signals) => {
    const code = 128 + constants.signals[signal]
    if (exiting) process.exit(code)
    exiting = true
    const timer = setTimeout(() => {
      process.stderr.write(`${who}: ${close ? 'close and ' : ''}flush did not finish within ${timeout} ms after ${signal}; exiting\n`)
      process.exit(code)
    }, timeout)
    const flushed = (err?: Error) => {
      clearTimeout(timer)
      if (err) process.stderr.write(`${who}: flush failed after ${signal}: ${err.message}\n`)
      process.exit(code)
    }
    const flush = () => {
      const done = logger.flush(flushed) as PromiseLike<unknown> | undefined
      if (done && typeof done.then === 'function') done.then(() => flushed(), flushed)
    }
    if (!close) return flush()
    // new Promise: close() may throw synchronously or return a plain value.
    new Promise((resolve) => resolve(close())).then(flush, (err: unknown) => {
      process.stderr.write(`${who}: close failed after ${signal}: ${err instanceof Error ? err.message : String(err)}\n`)
      flush()
    })
  }
  for (const s of signals) process.on(s, handler)
  return () => {
    for (const s of signals) process.off(s, handler)
  }
}
