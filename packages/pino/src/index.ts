import { createChainWriter, exitOnSignals as exitWith, flushOnExit, type ChainWriter, type ExitOnSignalsOptions, type SignalFlushable } from '@chainlog/core'
import { inThreadStream, toMainThread } from './bridge'
import { createDestination, type ChainlogDestination } from './destination'
import { resolveOptions, type ChainlogPinoOptions } from './options'

/**
 * Opens a hash-chained log and returns a stream for pino.
 *
 * As a worker-thread transport pino calls this itself; in the main thread,
 * pass the result to `pino()`. Every line pino writes becomes one record whose
 * line is pino's bytes, unchanged. Options are checked before anything is
 * opened. In the main thread, everything written is handed to the OS on
 * `process.exit()` and crashes too; in a worker, pino ends the transport on
 * exit, which closes the file.
 *
 * @example
 * // worker thread
 * const logger = pino(pino.transport({ target: '@chainlog/pino', options: { file: 'logs/app.log', size: '10m' } }))
 * // main thread
 * const logger = pino(await chainlog({ file: 'logs/app.log', size: '10m' }))
 * @throws ChainlogError INVALID_OPTION for a bad option; NO_DIRECTORY, ACCESS_DENIED, NOT_CHAINLOG, BAD_KEY … when the log cannot be opened
 */
export async function chainlog(options: ChainlogPinoOptions): Promise<ChainlogDestination> {
  const resolved = resolveOptions(options)
  const worker = inThreadStream()
  const emit = worker ? toMainThread() : undefined
  // The destination listens from before start-up, so that it hears the first
  // 'new' and a 'recovery'. Lines refused on a failing disk are counted, not
  // thrown: core reports the first refusal as 'error' and the count with 'resume'.
  let dest: ChainlogDestination | undefined
  const setup = (w: ChainWriter) => (dest = createDestination(w, { ...(emit && { emit }), ...(resolved.headInterval !== undefined && { headInterval: resolved.headInterval }) }))
  try {
    await createChainWriter(resolved.writer, setup, { refuse: 'count' })
  } catch (err) {
    // The log cannot be opened (nothing was emitted): the stream goes too.
    dest?.destroy()
    throw err
  }
  const stream = dest!
  // At exit the stream is ended first, so that a last line without LF is kept too.
  if (!worker) flushOnExit({ flushSync: () => (stream.writableEnded || stream.end(), stream.flushSync()), once: (e, l) => stream.once(e, l) }, '@chainlog/pino')
  return stream
}

export default chainlog
export { type ChainlogDestination, type DestinationOptions } from './destination'
export { Events, type ChainlogPinoEvents } from './events'
export type { ExitOnSignalsOptions, SignalFlushable as Flushable } from '@chainlog/core'

/**
 * Makes SIGTERM and SIGINT run the application's `close()`, flush the
 * logger, then exit with 128 + the signal number; see core's exitOnSignals.
 * @example
 * const app = Fastify({ logger: { transport: { target: '@chainlog/pino', options: { file: 'logs/app.log' } } } })
 * exitOnSignals(app.log, { close: () => app.close() })
 */
export function exitOnSignals(logger: SignalFlushable, options?: ExitOnSignalsOptions): () => void {
  return exitWith(logger, options, '@chainlog/pino')
}
export { resolveOptions, type ChainlogPinoOptions } from './options'
