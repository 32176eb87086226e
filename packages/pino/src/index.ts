import { createChainWriter, flushOnExit } from '@chainlog/core'
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
  // Events of the writer's start-up (the first 'new', a 'recovery') fire
  // before it is returned; hold them until the destination exists.
  let early: [string, unknown][] | null = []
  const writer = await createChainWriter(resolved.writer, (w) => {
    for (const name of ['new', 'recovery', 'error'] as const) w.on(name, (arg: unknown) => early?.push([name, arg]))
  })
  const dest = createDestination(writer, { ...(emit && { emit }), ...(resolved.headInterval !== undefined && { headInterval: resolved.headInterval }) })
  const held = early
  early = null
  for (const [name, arg] of held) (writer.emit as (event: string, arg: unknown) => boolean).call(writer, name, arg)
  // At exit the stream is ended first, so that a last line without LF is kept too.
  if (!worker) flushOnExit({ flushSync: () => (dest.writableEnded || dest.end(), dest.flushSync()), once: (e, l) => dest.once(e, l) }, '@chainlog/pino')
  return dest
}

export default chainlog
export { type ChainlogDestination, type DestinationOptions } from './destination'
export { Events } from './events'
export { exitOnSignals, type ExitOnSignalsOptions, type Flushable } from './signals'
export { resolveOptions, type ChainlogPinoOptions } from './options'
