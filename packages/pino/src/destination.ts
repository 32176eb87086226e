import type { Transform, TransformCallback } from 'node:stream'
import build from 'pino-abstract-transport'
import { ChunkFeed, forwardEvents, type ChainHead, type ChainWriter, type ChunkFeedOptions, type TypedEmitter } from '@chainlog/core'
import type { Emit } from './bridge'
import { Events, FORWARDED, type ChainlogPinoEvents } from './events'

/** The stream chainlog() returns: pino-abstract-transport's, tied to a chain writer; its events are typed by {@link ChainlogPinoEvents}. */
export interface ChainlogDestination extends Omit<Transform, keyof TypedEmitter<ChainlogPinoEvents>>, TypedEmitter<ChainlogPinoEvents> {
  /** The core writer; its head() is the chain's current position. */
  readonly writer: ChainWriter
  /**
   * Calls back once every line written so far is handed to the OS (with `fsync`, on disk), then
   * emits the head. pino's `logger.flush(cb)` calls this, in a worker through thread-stream.
   * While the log cannot be written it calls back at once and without an error: the failure is the
   * transport's one 'error', and the kept lines are written when the disk recovers.
   */
  flush(callback?: (err?: Error | null) => void): void
  /** Hands every whole line written so far to the OS before returning. */
  flushSync(): void
  /** The current head (see core's ChainWriter.head()). */
  head(): ChainHead
}

export interface DestinationOptions extends Pick<ChunkFeedOptions, 'headInterval'> {
  /** Where events go; by default they are emitted on the destination itself. */
  emit?: Emit
}

/** Any object makes pino-abstract-transport pass the line on as it is (`parse: 'lines'`): the line is never parsed. */
const KEEP = {}
/**
 * A separator for String.prototype.split that never cuts: [the chunk, ''].
 * split2 keeps the last piece to put before the next chunk; kept empty, no
 * chunk is ever joined to one (a join, a rope of two strings, is copied whole
 * by the next search through it). Core's writeChunk() keeps a partial last
 * line instead, and joins it to the start of the next chunk alone.
 */
const UNCUT = {
  [Symbol.split](text: string): string[] {
    return text === '' ? [text] : [text, '']
  },
}

/**
 * Makes pino's output stream for `writer`: pino-abstract-transport hands on
 * pino's output in chunks, which core's ChunkFeed hands to the writer, the
 * chunks of one event-loop turn in one `writeChunk()`.
 */
export function createDestination(writer: ChainWriter, options: DestinationOptions = {}): ChainlogDestination {
  // Set below, before the stream takes any line.
  let feed: ChunkFeed
  const stream = build((source) => void source.on('data', (run: string) => feed.take(run)), {
    parse: 'lines',
    parseLine: () => KEEP,
    metadata: false,
    close: (err: Error, cb: Function) => feed.close(err, cb as (err?: Error | null) => void),
  }) as unknown as Transform & { matcher: unknown; _writableState: { decodeStrings: boolean } }
  // split2 cuts with `text.split(stream.matcher)`, keeping the last piece. Its default, /\r?\n/, drops the CR
  // of a CRLF, and one item per line costs far more than the hash (#18). Not cut at all: each item is a chunk of
  // pino's output as thread-stream handed it (a CR stays in its line, and core stores it escaped), which core
  // takes as one block, keeping the partial line at its end for the next.
  stream.matcher = UNCUT
  // thread-stream writes strings; left as they are, split2's decoder passes them
  // through instead of Writable encoding each chunk to UTF-8 for split2 to decode.
  stream._writableState.decodeStrings = false
  const report: Emit = options.emit ?? ((name, ...args) => void stream.emit(name, ...args))
  forwardEvents(writer, FORWARDED, report)
  feed = new ChunkFeed(writer, stream, { onHead: (head) => report(Events.HEAD, head), ...(options.headInterval !== undefined && { headInterval: options.headInterval }) })
  // The end of pino's output: the writer keeps a last line without LF, and
  // writes it on close; 'finish' waits until the chain is closed: as the last
  // stage of a pipeline, 'finish' is what lets the worker exit. Deferred, as
  // this may run inside a read() of the feed's; resumed, so that the stream ends.
  const cut = stream._flush.bind(stream)
  stream._flush = (callback: TransformCallback) => cut((err) => (err ? callback(err) : process.nextTick(() => feed.end(callback))))
  const destination: Omit<ChainlogDestination, keyof Transform> = {
    writer,
    flush: (callback) => feed.flush(callback),
    flushSync: () => void (stream.destroyed || feed.flushSync()),
    head: () => writer.head(),
  }
  return Object.assign(stream, destination) as unknown as ChainlogDestination
}
