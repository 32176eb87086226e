/**
 * The worker side of {@link verifyInParallel}: verifies one segment of a chain
 * file (a byte range of a plain file, or a whole .gz file) and tells the main
 * thread what it found, in order, as a short list of items:
 *
 * - `run`: lines that are plain user records, each matching its hash and
 *   linked to the line before; only the first link (to the line before the
 *   run) is left for the main thread to check.
 * - `raw`: any other complete line, sent as bytes: the first line of the
 *   segment, headers, metadata, and every line that fails. The main thread
 *   runs them through the full verifier logic, which holds the chain state.
 * - `tail`: bytes after the last LF at the end of the file.
 * - `reread`: the main thread reads the rest of the segment itself, from a
 *   byte offset (a line too long for the worker's buffer, or too much raw
 *   data to send).
 * - `corrupt`: a .gz file is damaged from that point.
 *
 * Memory is one read buffer, the raw lines of one segment (bounded), and the
 * hashes at hand.
 */
import * as fs from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { createHashFn, type Algorithm, type HashFn } from './algorithm'
import { isZlibError, openChainFile } from './read'
import { HASH_HEX } from './record'
import { newRunScan, scanRun } from './run-scan'

/**
 * One segment to verify. Lines belong to the segment whose range holds their first byte.
 * @internal
 */
export interface SegmentTask {
  id: number
  path: string
  gz: boolean
  /** First byte of the range (a line boundary is found from there). */
  start: number
  /** End of the range, exclusive; -1 reads to the end of the file (always for .gz). */
  end: number
  alg: Algorithm
  /** A checkpoint hash to look for in runs, or null. */
  watch: string | null
}

/** @internal */
export interface RunItem {
  t: 'run'
  count: number
  bytes: number
  firstPrev: string
  hash: string
  watchAt: number
  /** Stored lines of the first and last line of the run. */
  firstLine: string
  lastLine: string
}

/** @internal */
export type SegmentItem =
  | { t: 'raw'; s: number; e: number }
  | RunItem
  | { t: 'tail'; s: number; e: number }
  | { t: 'reread'; from: number }
  | { t: 'corrupt'; detail: string }

/** @internal */
export interface SegmentResult {
  id: number
  items: SegmentItem[]
  /** Bytes of raw and tail items ([s, e) ranges). */
  raw: Uint8Array
  error?: { code?: string; message: string }
}

/** @internal */
export interface WorkerSetup {
  chainlogWorker: true
  key: Uint8Array | null
}

const LF = 0x0a
/** Bytes read at a time. */
const READ = 1024 * 1024
/** A line longer than this is left to the main thread. */
const LONG = 1024 * 1024
/** Past this much raw data, or this many items, the main thread reads the rest of the segment itself. */
const RAW_CAP = 8 * 1024 * 1024
const ITEM_CAP = 50_000

class Segment {
  readonly items: SegmentItem[] = []
  /** Set once the segment needs no more input. */
  stopped = false
  private readonly parts: Buffer[] = []
  private rawBytes = 0
  /** The hash field of the line before, which the next run must link to; null before the first line. */
  private expected: string | null = null
  private readonly scan = newRunScan()

  constructor(
    private readonly task: SegmentTask,
    private readonly hashFn: HashFn,
  ) {}

  /**
   * Takes the complete lines of `view` from `pos` that start before `limit`.
   * `base` is the file offset of view[0]. Returns where it stopped: at a line
   * that is not complete in `view`, or at `limit`.
   */
  lines(view: Buffer, pos: number, limit: number, base: number): number {
    const scan = this.scan
    while (pos < limit) {
      if (this.expected !== null) {
        scanRun(view, pos, limit, this.expected, this.hashFn, this.task.watch, scan)
        if (scan.count > 0) {
          this.run(view, pos)
          pos = scan.end
          this.expected = scan.hash
          if (pos >= limit) break
        }
      }
      const nl = view.indexOf(LF, pos)
      if (nl === -1) break
      if (this.rawBytes > RAW_CAP || this.items.length > ITEM_CAP) {
        this.reread(base + pos)
        break
      }
      this.raw('raw', view, pos, nl + 1)
      this.expected = nl - pos >= HASH_HEX ? view.toString('latin1', nl - HASH_HEX, nl) : ''
      pos = nl + 1
    }
    return pos
  }

  private run(view: Buffer, start: number): void {
    const scan = this.scan
    const last = this.items.at(-1)
    const lastLine = view.toString('utf8', scan.lastStart, scan.lastEnd)
    if (last?.t === 'run') {
      // Runs cut only by a read boundary are one run.
      if (last.watchAt === -1 && scan.watchAt !== -1) last.watchAt = last.count + scan.watchAt
      last.count += scan.count
      last.bytes += scan.end - start
      last.hash = scan.hash
      last.lastLine = lastLine
      return
    }
    this.items.push({
      t: 'run', count: scan.count, bytes: scan.end - start, firstPrev: this.expected!, hash: scan.hash, watchAt: scan.watchAt,
      firstLine: view.toString('utf8', scan.firstStart, scan.firstEnd), lastLine,
    })
  }

  raw(t: 'raw' | 'tail', view: Buffer, start: number, end: number): void {
    this.items.push({ t, s: this.rawBytes, e: this.rawBytes + end - start })
    this.parts.push(Buffer.from(view.subarray(start, end)))
    this.rawBytes += end - start
  }

  reread(from: number): void {
    this.items.push({ t: 'reread', from })
    this.stopped = true
  }

  corrupt(detail: string): void {
    this.items.push({ t: 'corrupt', detail })
    this.stopped = true
  }

  result(): SegmentResult {
    // Its own ArrayBuffer (never Buffer's shared pool), so that it can be transferred.
    const raw = new Uint8Array(this.rawBytes)
    let at = 0
    for (const p of this.parts) {
      raw.set(p, at)
      at += p.length
    }
    return { id: this.task.id, items: this.items, raw }
  }
}

/** Bytes read at a time while looking for the first line of a segment (records are ~200 bytes). */
const PROBE = 4096

/**
 * Finds where the first line that starts at or after `start` begins: just
 * after the first LF at or after `start - 1`. Returns -1 when there is none
 * before `end` (-1: the end of the file).
 */
function firstLineStart(fd: number, start: number, end: number, buf: Buffer): number {
  if (start === 0) return 0
  let pos = start - 1
  for (;;) {
    if (end >= 0 && pos >= end) return -1
    const n = fs.readSync(fd, buf, 0, PROBE, pos)
    if (n === 0) return -1
    const nl = buf.subarray(0, n).indexOf(LF)
    if (nl !== -1) {
      const at = pos + nl + 1
      return end >= 0 && at >= end ? -1 : at
    }
    pos += n
  }
}

/**
 * A plain file's segment, read in blocks into one buffer: each block lands at
 * LONG, and the partial line carried over from the block before is moved just
 * ahead of it. The reads are synchronous, on this thread: a read from the page
 * cache costs this thread less than handing it to libuv's threads and waiting
 * for the callback (1 GiB, `verify-log --jobs 1`: 1.41 s in all against 1.72 s
 * with the next block read ahead on libuv's threads, whose system time was
 * twice as much; bench/RESULTS.md).
 */
function verifyPlain(task: SegmentTask, seg: Segment, buf: Buffer): void {
  const fd = fs.openSync(task.path, 'r')
  try {
    const first = firstLineStart(fd, task.start, task.end, buf)
    if (first === -1) return
    /** File offset of the block read next. */
    let at = first
    let carry = 0
    for (;;) {
      const n = fs.readSync(fd, buf, LONG, READ, at)
      const blockAt = at
      at += n
      if (n === 0) {
        if (carry > 0) seg.raw('tail', buf, LONG - carry, LONG)
        return
      }
      const from = LONG - carry
      const view = buf.subarray(from, LONG + n)
      const base = blockAt - carry
      const limit = task.end < 0 ? view.length : Math.min(view.length, task.end - base)
      const pos = seg.lines(view, 0, limit, base)
      if (seg.stopped) return
      if (task.end >= 0 && base + pos >= task.end) return
      carry = view.length - pos
      if (carry > LONG) return seg.reread(base + pos)
      buf.copyWithin(LONG - carry, from + pos, LONG + n)
    }
  } finally {
    fs.closeSync(fd)
  }
}

async function verifyGz(task: SegmentTask, seg: Segment, buf: Buffer): Promise<void> {
  // Decompressed chunks are copied in after the carried partial line: the buffer from its start.
  const opened = openChainFile(task.path, true, { highWaterMark: READ, chunkSize: READ })
  let base = 0
  let carry = 0
  try {
    for await (const chunk of opened) {
      chunk.copy(buf, carry)
      const dataEnd = carry + chunk.length
      const view = buf.subarray(0, dataEnd)
      const pos = seg.lines(view, 0, dataEnd, base)
      if (seg.stopped) return
      carry = dataEnd - pos
      if (carry > LONG) return seg.reread(base + pos)
      buf.copy(buf, 0, pos, dataEnd)
      base += pos
    }
    if (carry > 0) seg.raw('tail', buf, 0, carry)
  } catch (err) {
    if (!isZlibError(err)) throw err
    if (carry > 0) seg.raw('tail', buf, 0, carry)
    seg.corrupt((err as Error).message)
  } finally {
    opened.close()
  }
}

/**
 * Verifies one segment; the worker calls it for each task.
 * @internal
 */
export async function verifySegment(task: SegmentTask, key: Uint8Array | null, buf: Buffer = newBuffer()): Promise<SegmentResult> {
  const hashFn = createHashFn(task.alg, key ? { key } : {})
  const seg = new Segment(task, hashFn)
  if (task.gz) await verifyGz(task, seg, buf)
  else verifyPlain(task, seg, buf)
  return seg.result()
}

/** A worker's read buffer: a block and the longest partial line carried ahead of it. */
const newBuffer = (): Buffer => Buffer.allocUnsafe(LONG + READ)

function serve(setup: WorkerSetup): void {
  const port = parentPort!
  const buf = newBuffer()
  // One task at a time: they share the buffer, and a .gz file's reading awaits (the next task waits in the queue).
  let previous: Promise<void> = Promise.resolve()
  port.on('message', (task: SegmentTask) => {
    previous = previous.then(() =>
      verifySegment(task, setup.key, buf).then(
        (result) => port.postMessage(result, [result.raw.buffer as ArrayBuffer]),
        (err: unknown) => {
          const e = err as NodeJS.ErrnoException
          const result: SegmentResult = { id: task.id, items: [], raw: new Uint8Array(0), error: { message: e?.message ?? String(err), ...(typeof e?.code === 'string' && { code: e.code }) } }
          port.postMessage(result)
        },
      ),
    )
  })
}

if (parentPort && (workerData as WorkerSetup | undefined)?.chainlogWorker) serve(workerData as WorkerSetup)
