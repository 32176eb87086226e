import type { Transform, TransformCallback } from 'node:stream'
import build from 'pino-abstract-transport'
import { forwardEvents, type ChainHead, type ChainWriter, type TypedEmitter } from '@chainlog/core'
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

export interface DestinationOptions {
  /** Where events go; by default they are emitted on the destination itself. */
  emit?: Emit
  /** Emit the head every this many ms while lines arrive. */
  headInterval?: number
}

/** Any object makes pino-abstract-transport pass the line on as it is (`parse: 'lines'`): the line is never parsed. */
const KEEP = {}
/** Runs of lines per writeChunk() at most: a long synchronous burst (pino in this thread) goes to core as it comes. */
const BATCH_LINES = 1024
/** A separator for String.prototype.split that cuts once, at the last LF: [whole lines, the partial last line]. */
const LAST_LF = {
  [Symbol.split](text: string): string[] {
    const nl = text.lastIndexOf('\n')
    // The run keeps its last LF, so that core takes it as it is, without a copy.
    return nl === -1 ? [text] : [text.slice(0, nl + 1), text.slice(nl + 1)]
  },
}

/**
 * Makes pino's output stream for `writer`: pino-abstract-transport cuts
 * pino's output into runs of whole lines, and the runs of one event-loop turn
 * go to core in one `writeChunk()`, one record per line (core hashes such a block in place; one
 * call per line costs far more CPU: bench/pino.bench.mjs, #18).
 */
export function createDestination(writer: ChainWriter, options: DestinationOptions = {}): ChainlogDestination {
  /** The disk is failing: there is no 'drain' until it recovers, and core's maxBuffered bounds the memory, so keep writing. */
  let stalled = false
  /** Lines went to core since the last head report. */
  let dirty = false
  /** Runs of whole lines (each ending with its LF) the stream has handed over since the last writeChunk(). */
  let batch: string[] = []
  const take = (line: string) => {
    const n = batch.push(line)
    if (n === 1) process.nextTick(writeBatch)
    else if (n >= BATCH_LINES) writeBatch()
  }
  const stream = build((source) => void source.on('data', take), {
    parse: 'lines',
    parseLine: () => KEEP,
    metadata: false,
    close: (err: Error, cb: Function) => closeWriter(err, cb as (err?: Error | null) => void),
  }) as unknown as Transform & { matcher: unknown; _writableState: { decodeStrings: boolean } }
  // split2 cuts with `text.split(stream.matcher)`, keeping the last piece. Its default, /\r?\n/, drops the CR
  // of a CRLF, and one item per line costs far more than the hash (#18). Cut at the last LF only: each item is
  // then a run of whole lines (a CR stays in its line, and core stores it escaped), which core takes as one block.
  stream.matcher = LAST_LF
  // thread-stream writes strings; left as they are, split2's decoder passes them
  // through instead of Writable encoding each chunk to UTF-8 for split2 to decode.
  stream._writableState.decodeStrings = false
  const report: Emit = options.emit ?? ((name, ...args) => void stream.emit(name, ...args))

  /** Hands the batch to core in one piece; while core asks to wait, the paused stream holds back pino. */
  function writeBatch(): void {
    if (batch.length === 0) return
    // Runs end with their LF; only the last line of pino's output, handed over at the end, may not: core keeps it, and writes it on close or flushSync.
    const text = batch.length === 1 ? batch[0]! : batch.join('')
    batch = []
    dirty = true
    // On a failing disk past maxBuffered core refuses the lines without
    // throwing (the writer is opened with refuse: 'count'): it reports the
    // first refusal as 'error' and counts them for 'resume'. Logging goes on
    // with the disk; failing the stream would end the worker for good, and
    // thread-stream can then lose the error or throw in the application.
    if (!writer.writeChunk(text) && !stalled) stream.pause()
  }
  /** Hands core every line the stream holds, whatever its backpressure (flush, flushSync, the end). */
  function drain(): void {
    // Each read() passes a line to the 'data' listener, and runs writes the stream still holds.
    while (stream.read() !== null);
    writeBatch()
  }
  const resume = (failing: boolean) => void ((stalled = failing), stream.resume())
  forwardEvents(writer, FORWARDED, report)
  writer.on('drain', () => resume(false))
  writer.on('resume', () => resume(false))
  writer.on('error', () => resume(true))
  const reportHead = () => {
    let head: ChainHead
    try {
      head = writer.head()
    } catch {
      return // the file is gone: no head to tell
    }
    report(Events.HEAD, { ...head })
  }
  const timer = options.headInterval
    ? setInterval(() => {
        if (!dirty) return
        dirty = false
        // A failure has been reported as 'error' already.
        writer.flush().then(reportHead, () => {})
      }, options.headInterval).unref()
    : undefined
  function closeWriter(err: Error | null, cb: (err?: Error | null) => void): void {
    clearInterval(timer)
    if (writer.isClosed) return cb(err)
    // On destroy, keep what can still be kept; the original error is the one to report.
    writer.close().then(() => (reportHead(), cb(err)), (closeErr: Error) => cb(err ?? closeErr))
  }
  // The end of pino's output: split2 hands over the last line (with or
  // without LF), and 'finish' waits until the chain is closed: as the last
  // stage of a pipeline, 'finish' is what lets the worker exit. Deferred, as
  // this may run inside drain()'s read(); resumed, so that the stream ends.
  const cut = stream._flush.bind(stream)
  stream._flush = (callback: TransformCallback) => cut((err) => (err ? callback(err) : process.nextTick(() => (drain(), stream.resume(), closeWriter(null, callback)))))
  const destination: Omit<ChainlogDestination, keyof Transform> = {
    writer,
    flush(callback?: (err?: Error | null) => void): void {
      drain()
      // While the log cannot be written (a full disk, a removed directory) the
      // writer has reported it as 'error', once, and keeps the lines for when it
      // recovers. The callback then runs without an error: thread-stream takes a
      // flush error as fatal and ends the worker, losing every later line (#12).
      writer.flush().then(() => (reportHead(), callback?.()), () => callback?.())
    },
    flushSync(): void {
      if (writer.isClosed || stream.destroyed) return
      drain()
      writer.flushSync()
    },
    head: () => writer.head(),
  }
  return Object.assign(stream, destination) as unknown as ChainlogDestination
}
