// The event maps and the error code union (#13): a misspelt event name, a
// payload field that does not exist or a code that is not chainlog's fails
// to compile (each @ts-expect-error below must be an error).
import { Events, type ChainlogDestination } from '@chainlog/pino'
import ChainlogTransport from '@chainlog/winston'
import { ChainlogError, ErrorCodes, type ChainWriter, type ErrorCode } from '@chainlog/core'

export function pinoEvents(destination: ChainlogDestination): void {
  destination.on('chainlog:head', (head) => head.hash.length + head.count)
  destination.on(Events.ROTATE, (e) => e.from + e.to)
  destination.once('chainlog:foreign', (e) => e.files.concat(e.current))
  destination.on('error', (err) => err.message)
  // @ts-expect-error a misspelt event name
  destination.on('chainlog:haed', () => {})
  // @ts-expect-error the head has no `hashh`
  destination.on('chainlog:head', (head) => head.hashh)
  // @ts-expect-error 'chainlog:new' carries a path, not an object
  destination.on('chainlog:new', (file: { path: string }) => file)
}

export function winstonEvents(transport: ChainlogTransport): void {
  transport.on('rotate', (from, to) => from.length + to.length)
  transport.on('logRemoved', (file) => file.length)
  transport.on('foreign', (e) => e.files.length)
  transport.on('archive', (file) => file.endsWith('.gz'))
  // @ts-expect-error a misspelt event name
  transport.on('rotated', () => {})
  // @ts-expect-error 'resume' carries { refused }
  transport.on('resume', (e) => e.refusedLines)
}

export function writerEvents(writer: ChainWriter): void {
  writer.on('foreign', (e) => e.current.length)
  // @ts-expect-error a misspelt event name
  writer.on('foriegn', () => {})
}

export function codes(err: unknown): ErrorCode | null {
  if (!(err instanceof ChainlogError)) return null
  const code: ErrorCode = err.code
  if (code === ErrorCodes.DISK_FULL || code === 'BUFFER_FULL') return code
  // @ts-expect-error a code that is not chainlog's
  if (err.code === 'DISK_FUL') return null
  // @ts-expect-error ChainlogError takes only chainlog's codes
  void new ChainlogError('NOT_A_CODE', 'x')
  return code
}

export const made = new ChainlogTransport({ filename: 'logs/app.log' })
