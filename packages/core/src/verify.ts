/**
 * The one entry point of the verify path: `verify(input, { jobs })`. Paths go
 * to {@link resolveInputs} (which chains, which files, in which order);
 * the files are then read in this thread, or planned and scanned on worker
 * threads, and the verifier's report carries its verdict.
 */
import { ChainlogError, ErrorCodes } from './errors'
import { resolveInputs, type ChainInput } from './inputs'
import { keyVerified, keyVerifiesAny } from './hash-proof'
import { verifyInParallel } from './parallel'
import { HEAD_BYTES, isZlibError, lineOffset, openChainFile, readError } from './read'
import { combine, type VerifierOptions, type VerifyReport } from './report'
import { ChainVerifier } from './verifier'

export interface VerifyOptions extends VerifierOptions {
  /** Called after each chunk with bytes read so far and the total size on disk. */
  onProgress?: (done: number, total: number) => void
  /**
   * Called after each chunk; when it returns a promise, reading waits for it.
   * Lets a consumer of `onLine` apply backpressure (e.g. wait for stdout to drain).
   */
  pause?: () => Promise<void> | void
  /**
   * Worker threads to verify paths with (issue #5), e.g. `os.availableParallelism()`.
   * Absent: everything is verified in this thread. With `onLine`, `onRecord` or `verifyKey`, or for small
   * inputs, the chain is verified in this thread whatever `jobs` says.
   */
  jobs?: number
  /** With `jobs`: size of the byte ranges handed to workers. Default 8 MiB. */
  segmentBytes?: number
  /** With `jobs`: inputs smaller than this are verified in this thread, where starting workers would cost more than it saves. Default 16 MiB. */
  minParallelBytes?: number
}

/** Bytes read at a time from a file. */
const CHUNK = 4 * 1024 * 1024
const DEFAULT_MIN_PARALLEL = 16 * 1024 * 1024

/**
 * Verifies the chains held in `input`: files, directories or a rotation base
 * path (`logs/app.log` finds `logs/app.1.log`, `logs/app.2.log.gz`, …, and so
 * does a symlink a transport keeps), or a readable stream. A base path or a
 * directory stands for the whole log; files given by name, or a stream, for a
 * segment of a chain (see {@link VerifierOptions.scope}). Every chain found is
 * verified (a folder may hold several logs: see {@link VerifyReport.chains}).
 * Files are read in chain order, streamed in constant memory, on `jobs` worker
 * threads when given. The report says what was found and concludes with its
 * {@link VerifyReport.verdict}.
 *
 * @example
 * const report = await verify('logs/app.log', { jobs: 4 })
 * if (report.verdict === 'BROKEN') console.log(report.breaks[0]) // { file, line, offset, reason, … }
 * @throws ChainlogError NO_INPUT, NOT_CHAINLOG, ACCESS_DENIED, MULTIPLE_CHAINS (a checkpoint with several chains), KEY_REQUIRED, KEY_MISMATCH, INVALID_OPTION, IO_ERROR
 */
export async function verify(input: string | string[] | NodeJS.ReadableStream, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (typeof input === 'object' && !Array.isArray(input)) return verifyStream(input, options)
  const { jobs, segmentBytes } = options
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `jobs must be a whole number of at least 1; got ${String(jobs)}`)
  if (segmentBytes !== undefined && (!Number.isInteger(segmentBytes) || segmentBytes < 1)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `segmentBytes must be a positive whole number; got ${String(segmentBytes)}`)
  const inputs = Array.isArray(input) ? input : [input]
  const { scope, chains, skipped } = await resolveInputs(inputs)
  if (chains.length > 1 && (options.checkpoint || options.onRecord)) {
    throw new ChainlogError(ErrorCodes.MULTIPLE_CHAINS, `the input holds ${chains.length} different chains (${chains.map((c) => c.files[0]!.header?.chain ?? c.files[0]!.path).join(', ')}); a checkpoint names the head of one: give that log's base path`, { path: inputs[0] ?? '' })
  }
  const size = (c: ChainInput) => c.files.reduce((n, f) => n + f.size, 0)
  const total = chains.reduce((n, c) => n + size(c), 0)
  const reports: VerifyReport[] = []
  let before = 0
  for (const chain of chains) {
    const at = before
    const keyProof = options.key ? await keyVerified(chain.files, options.key) : false
    const opts: VerifyOptions = { ...options, scope, keyVerified: keyProof, ...(options.onProgress && { onProgress: (done: number) => options.onProgress!(at + done, total) }) }
    // The seal audit reads every record's time: in this thread, like onLine.
    const parallel = jobs !== undefined && !options.onLine && !options.onRecord && !options.verifyKey && total >= (options.minParallelBytes ?? DEFAULT_MIN_PARALLEL)
    const report = parallel ? await verifyInParallel(chain, { ...opts, jobs }) : await verifyFiles(chain, opts)
    await placeBreaks(report, chain)
    reports.push(report)
    before += size(chain)
  }
  const report = combine(reports)
  report.skipped = skipped
  return report
}

/** Reads the byte offset of breaks the verifier found only after reading past their line (offset -1). */
async function placeBreaks(report: VerifyReport, { files }: ChainInput): Promise<void> {
  for (const b of report.breaks) {
    if (b.offset >= 0) continue
    const f = files.find((x) => x.path === b.file)
    if (f) b.offset = await lineOffset(f.path, f.gz, b.line)
  }
}

async function verifyStream(input: NodeJS.ReadableStream, options: VerifyOptions): Promise<VerifyReport> {
  const it = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
  const first: Buffer[] = []
  let firstBytes = 0
  let verifier: ChainVerifier | null = null
  let any = false
  try {
    // With a key, its first bytes show whether the key is the chain's, whatever keyId a header names.
    while (options.key && firstBytes < HEAD_BYTES) {
      const next = await it.next()
      if (next.done) break
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value
      first.push(chunk)
      firstBytes += chunk.length
    }
    const keyProof = options.key !== undefined && keyVerifiesAny(Buffer.concat(first, firstBytes), options.key)
    // Stdin is a segment: it may begin with a file's header, or anywhere in a file.
    verifier = new ChainVerifier({ ...options, scope: 'segment', midFile: true, keyVerified: keyProof })
    verifier.beginFile('-')
    const rest: AsyncIterable<Buffer | string> = { [Symbol.asyncIterator]: () => it }
    for (const chunk of first) {
      any = true
      verifier.feed(chunk)
    }
    for await (const chunk of verifier.done ? [] : rest) {
      any = true
      verifier.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      if (options.pause) await options.pause()
      if (verifier.done) break
    }
  } catch (err) {
    // A gunzip in the stream: the compressed data is damaged or cut short.
    if (verifier && any && isZlibError(err)) verifier.abortFile((err as Error).message)
    else throw readError('-', err)
  }
  if (!any || !verifier) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, '-: empty input', { path: '-' })
  verifier.endFile(true)
  if (!verifier.sawRecords) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, '-: not a chainlog file (no chainlog header found)', { path: '-' })
  return verifier.finish()
}

/** Verifies one chain resolved and ordered by {@link resolveInputs}, in this thread. */
async function verifyFiles({ files, newest }: ChainInput, options: VerifyOptions): Promise<VerifyReport> {
  const verifier = new ChainVerifier(options)
  const { onProgress, pause } = options
  const total = files.reduce((n, f) => n + f.size, 0)
  let before = 0
  for (let i = 0; i < files.length && !verifier.done; i++) {
    const file = files[i]!
    verifier.beginFile(file.path)
    const opened = openChainFile(file.path, file.gz, { highWaterMark: CHUNK, chunkSize: 1024 * 1024 })
    try {
      for await (const chunk of opened) {
        verifier.feed(chunk)
        onProgress?.(before + Math.min(opened.bytesRead, file.size), total)
        if (pause) await pause()
        if (verifier.done) break
      }
    } catch (err) {
      if (file.gz && isZlibError(err)) verifier.abortFile((err as Error).message)
      else throw readError(file.path, err)
    } finally {
      opened.close()
    }
    before += file.size
    onProgress?.(before, total)
    verifier.endFile(i === files.length - 1)
  }
  if (newest) verifier.endsWithForeign(newest)
  return verifier.finish()
}
