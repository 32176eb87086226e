/**
 * Parallel verification (issue #5). Every record carries its own `prev`, so
 * a file can be cut into byte ranges at line boundaries and the ranges
 * verified independently: each worker thread checks the hashes and the links
 * inside its range, and the main thread checks the links at the joins and
 * runs the header, metadata and break logic of {@link ChainVerifier} over
 * everything that is not a plain verified record. The report is the one the
 * sequential reading in {@link verify} gives for the same input: same breaks, lines and
 * offsets. {@link verify} is the entry point; this room only shares the work.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { isAlgorithm, keyId } from './algorithm'
import { ChainlogError, ErrorCodes } from './errors'
import type { ChainFile, ChainInput } from './inputs'
import type { SegmentResult, SegmentTask, WorkerSetup } from './parallel-worker'
import { isZlibError, openChainFile, readError } from './read'
import type { VerifierOptions, VerifyReport } from './report'
import { ChainVerifier } from './verifier'
import { workerScript } from './worker-script'

/**
 * What {@link verifyInParallel} takes: the verifier's options, and how to share the work.
 * @internal
 */
export interface ParallelOptions extends VerifierOptions {
  /** Worker threads. */
  jobs: number
  /** Size of the byte ranges handed to workers. Default 8 MiB. */
  segmentBytes?: number
  onProgress?: (done: number, total: number) => void
  pause?: () => Promise<void> | void
}

const DEFAULT_SEGMENT = 8 * 1024 * 1024
const READ = 1024 * 1024

/** The verifier's worker script. */
function verifierScript(): string {
  const script = workerScript('parallel-worker.js')
  if (script === null) throw new ChainlogError(ErrorCodes.IO_ERROR, `cannot find the verifier worker script (${path.join(__dirname, 'parallel-worker.js')}); build @chainlog/core first`)
  return script
}

interface Segment {
  file: ChainFile
  /** Null: verified in the main thread (no known hash function for the workers). */
  task: SegmentTask | null
  /** Bytes on disk this segment accounts for, for progress. */
  diskBytes: number
  result?: Promise<SegmentResult>
}

/** Cuts files into segments. */
function plan(files: ChainFile[], segmentBytes: number, key: Uint8Array | undefined, watch: string | null): Segment[][] {
  let id = 0
  return files.map((file) => {
    const h = file.header
    // Without a header, or for a keyed chain whose key is missing or wrong, only the main
    // thread knows what to do (it reports the bad header, or throws KEY_REQUIRED / KEY_MISMATCH).
    const local = !h || (h.alg === 'hmac-sha256' && (!key || (h.keyId !== undefined && keyId(key) !== h.keyId))) || !isAlgorithm(h.alg)
    if (local) return [{ file, task: null, diskBytes: file.size }]
    if (file.gz || file.size <= segmentBytes) return [{ file, task: { id: id++, path: file.path, gz: file.gz, start: 0, end: -1, alg: h.alg, watch }, diskBytes: file.size }]
    const out: Segment[] = []
    for (let start = 0; start < file.size; start += segmentBytes) {
      const last = start + segmentBytes >= file.size
      out.push({ file, task: { id: id++, path: file.path, gz: false, start, end: last ? -1 : start + segmentBytes, alg: h.alg, watch }, diskBytes: Math.min(segmentBytes, file.size - start) })
    }
    return out
  })
}

/** Tasks a worker holds at once: the next one waits in its queue, so it never idles between two. */
const DEPTH = 2

/** A fixed set of workers taking tasks in order. */
class Pool {
  private readonly workers: { worker: Worker; busy: number }[] = []
  private readonly queue: SegmentTask[] = []
  private readonly waiting = new Map<number, { resolve: (r: SegmentResult) => void; reject: (e: unknown) => void }>()
  private failure: unknown = null

  constructor(
    private readonly size: number,
    private readonly setup: WorkerSetup,
  ) {}

  run(task: SegmentTask): Promise<SegmentResult> {
    const p = new Promise<SegmentResult>((resolve, reject) => {
      if (this.failure) return reject(this.failure)
      this.waiting.set(task.id, { resolve, reject })
    })
    // Awaited later, in order; until then a rejection must not count as unhandled.
    p.catch(() => undefined)
    this.queue.push(task)
    this.next()
    return p
  }

  private next(): void {
    while (this.queue.length && !this.failure) {
      let w = this.workers.reduce<{ worker: Worker; busy: number } | undefined>((best, x) => (x.busy < (best?.busy ?? DEPTH) ? x : best), undefined)
      if (this.workers.length < this.size && (!w || w.busy > 0)) w = this.spawn()
      if (!w) return // every worker holds DEPTH tasks: the next result frees one
      w.busy++
      w.worker.postMessage(this.queue.shift()!)
    }
  }

  private spawn(): { worker: Worker; busy: number } {
    const worker = new Worker(verifierScript(), { workerData: this.setup })
    const entry = { worker, busy: 0 }
    worker.on('message', (r: SegmentResult) => {
      const waiter = this.waiting.get(r.id)
      this.waiting.delete(r.id)
      entry.busy--
      waiter?.resolve(r)
      this.next()
    })
    worker.on('error', (err) => this.fail(err))
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`a verifier worker exited with code ${code}`))
    })
    this.workers.push(entry)
    return entry
  }

  private fail(err: unknown): void {
    if (this.failure) return
    this.failure = err
    for (const w of this.waiting.values()) w.reject(err)
    this.waiting.clear()
  }

  async close(): Promise<void> {
    this.failure ??= new Error('closed')
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }
}

/**
 * Verifies one chain resolved and ordered by resolveInputs() with `jobs`
 * worker threads, in constant memory. The report is the one the sequential
 * reading gives for the same files. {@link verify} decides when to use it.
 * @internal
 */
export async function verifyInParallel({ files, newest }: ChainInput, options: ParallelOptions): Promise<VerifyReport> {
  const { jobs } = options
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT
  const total = files.reduce((n, f) => n + f.size, 0)
  const verifier = new ChainVerifier(options)
  const watch = options.checkpoint?.hash ?? null
  const byFile = plan(files, segmentBytes, options.key, watch)
  const segments = byFile.flat()
  const pool = new Pool(jobs, { chainlogWorker: true, key: options.key ?? null })
  // Results waiting to be applied: enough to keep every worker busy, few enough to bound memory.
  const window = jobs * (DEPTH + 1)
  let dispatched = 0
  let applied = 0
  const pump = () => {
    while (dispatched < segments.length && dispatched < applied + window) {
      const s = segments[dispatched++]!
      if (s.task) s.result = pool.run(s.task)
    }
  }
  let done = 0
  try {
    for (let i = 0; i < byFile.length && !verifier.done; i++) {
      const file = files[i]!
      verifier.beginFile(file.path)
      for (const seg of byFile[i]!) {
        pump()
        if (!seg.task) await feedRange(verifier, file, 0, null)
        else {
          const result = await seg.result!
          seg.result = undefined
          if (result.error) throw readError(file.path, Object.assign(new Error(result.error.message), result.error.code ? { code: result.error.code } : {}))
          await apply(verifier, file, seg.task, result)
        }
        applied++
        done += seg.diskBytes
        options.onProgress?.(done, total)
        if (options.pause) await options.pause()
        if (verifier.done) break
      }
      verifier.endFile(i === files.length - 1)
    }
    if (newest && !verifier.done) verifier.endsWithForeign(newest)
  } finally {
    await pool.close()
  }
  return verifier.finish()
}

/** Applies a worker's findings to the verifier, in order. */
async function apply(verifier: ChainVerifier, file: ChainFile, task: SegmentTask, result: SegmentResult): Promise<void> {
  const raw = Buffer.from(result.raw.buffer, result.raw.byteOffset, result.raw.byteLength)
  for (const item of result.items) {
    if (verifier.done) return
    switch (item.t) {
      case 'raw':
      case 'tail':
        verifier.feed(raw.subarray(item.s, item.e))
        break
      case 'run':
        if (!verifier.applyRun({ ...item, alg: task.alg })) {
          // The state here is not what the worker assumed: verify the rest of the segment line by line.
          return finishSegment(verifier, file, task, verifier.bytesFed)
        }
        break
      case 'reread':
        return finishSegment(verifier, file, task, item.from)
      case 'corrupt':
        verifier.abortFile(item.detail)
        return
    }
  }
}

/** Feeds the segment from byte `from` to its end (the end of the line that crosses its range end). */
function finishSegment(verifier: ChainVerifier, file: ChainFile, task: SegmentTask, from: number): Promise<void> {
  return task.end < 0 ? feedRange(verifier, file, from, null) : feedRange(verifier, file, from, task.end, true)
}

/**
 * Feeds bytes [from, to) of a file (decompressed for .gz; `to` null: to the
 * end), and with `toLineEnd` on up to the end of the line that holds byte `to - 1`.
 */
async function feedRange(verifier: ChainVerifier, file: ChainFile, from: number, to: number | null, toLineEnd = false): Promise<void> {
  if (file.gz) return feedGz(verifier, file, from, to)
  let fh: fs.promises.FileHandle
  try {
    fh = await fs.promises.open(file.path, 'r')
  } catch (err) {
    throw readError(file.path, err)
  }
  try {
    const buf = Buffer.allocUnsafe(READ)
    let pos = from
    let lastByte = -1
    for (;;) {
      const want = to === null ? READ : Math.min(READ, to - pos)
      if (want <= 0) break
      const { bytesRead } = await fh.read(buf, 0, want, pos)
      if (bytesRead === 0) return
      // feed() may keep a view of a partial line: give it its own copy.
      verifier.feed(Buffer.from(buf.subarray(0, bytesRead)))
      lastByte = buf[bytesRead - 1]!
      pos += bytesRead
      if (verifier.done) return
    }
    if (!toLineEnd || lastByte === 0x0a) return
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ, pos)
      if (bytesRead === 0) return
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a)
      verifier.feed(Buffer.from(buf.subarray(0, nl === -1 ? bytesRead : nl + 1)))
      if (nl !== -1 || verifier.done) return
      pos += bytesRead
    }
  } catch (err) {
    throw readError(file.path, err)
  } finally {
    await fh.close()
  }
}

async function feedGz(verifier: ChainVerifier, file: ChainFile, from: number, to: number | null): Promise<void> {
  const opened = openChainFile(file.path, true, { highWaterMark: READ, chunkSize: READ })
  let pos = 0
  try {
    for await (const chunk of opened) {
      const start = Math.max(0, from - pos)
      const end = to === null ? chunk.length : Math.min(chunk.length, to - pos)
      pos += chunk.length
      if (end > start) verifier.feed(chunk.subarray(start, end))
      if (verifier.done || (to !== null && pos >= to)) return
    }
  } catch (err) {
    if (isZlibError(err)) verifier.abortFile((err as Error).message)
    else throw readError(file.path, err)
  } finally {
    opened.close()
  }
}
