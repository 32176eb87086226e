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

/**
 * Makes pino's output stream for `writer`: pino-abstract-transport's stream,
 * whose writable side hands pino's output in chunks, as written, to core's
 * ChunkFeed, which hands the chunks of one event-loop turn to the writer in
 * one `writeChunk()` and holds pino back while the writer asks to wait.
 */
export function createDestination(writer: ChainWriter, options: DestinationOptions = {}): ChainlogDestination {
  // Set below, before the stream takes any chunk.
  let feed: ChunkFeed
  // Flowing from the start, with nothing to flow but its end: the stream ends once its readable side has.
  const stream = build((source) => void source.resume(), {
    // Without pino's metadata symbol on the stream, pino in this thread does not set lastLevel, lastObj … on it before each line.
    metadata: false,
    close: (err: Error, cb: Function) => feed.close(err, cb as (err?: Error | null) => void),
  }) as unknown as Transform & { _writableState: { decodeStrings: boolean } }
  // The stream is split2's Transform, which would cut each chunk into lines and push them one by one to its
  // readable side: one item per line costs far more than the hash (#18), and even a whole chunk as one item
  // cost about 20 ms of 200,000 lines on the way through the readable side, in a worker fed 100 lines a turn
  // (bench/RESULTS.md). Each chunk goes to the feed as it is instead: core keeps a partial line at its end for
  // the next chunk, and a CR stays in its line (core stores it escaped).
  stream._transform = (chunk: string | Buffer, _encoding: BufferEncoding, callback: TransformCallback) => feed.write(chunk, callback)
  // thread-stream writes strings; left as they are, they reach _transform as strings instead of Writable
  // encoding each chunk to UTF-8 to be decoded again.
  stream._writableState.decodeStrings = false
  const report: Emit = options.emit ?? ((name, ...args) => void stream.emit(name, ...args))
  forwardEvents(writer, FORWARDED, report)
  // Lines after the writer was closed under the stream fail the stream, with the writer's WRITER_CLOSED.
  feed = new ChunkFeed(writer, { onHead: (head) => report(Events.HEAD, head), onError: (err) => stream.destroy(err), ...(options.headInterval !== undefined && { headInterval: options.headInterval }) })
  // The end of pino's output: the writer keeps a last line without LF, and writes it on close; 'finish' waits
  // until the chain is closed: as the last stage of a pipeline, 'finish' is what lets the worker exit. Deferred,
  // as this may run inside a call of the feed's.
  stream._flush = (callback: TransformCallback) => void process.nextTick(() => feed.end(callback))
  const destination: Omit<ChainlogDestination, keyof Transform> = {
    writer,
    flush: (callback) => feed.flush(callback),
    flushSync: () => void (stream.destroyed || feed.flushSync()),
    head: () => writer.head(),
  }
  return Object.assign(stream, destination) as unknown as ChainlogDestination
}
