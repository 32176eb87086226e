/**
 * The one entry point of the verify path: `verify(input, { jobs })`. Paths go
 * to {@link resolveChainFiles} (which chains, which files, in which order);
 * the files are then read in this thread, or planned and scanned on worker
 * threads, and the verifier's report carries its verdict.
 */
import { ChainlogError, ErrorCodes } from './errors'
import { resolveChainFiles, type ChainFile } from './inputs'
import { verifyInParallel } from './parallel'
import { isZlibError, openChainFile, readError } from './read'
import type { VerifierOptions, VerifyReport } from './report'
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
   * Absent: everything is verified in this thread. With `onLine` or `onRecord`, or for small
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
 * Verifies the chain held in `input`: files, directories or a rotation base
 * path (`logs/app.log` finds `logs/app.1.log`, `logs/app.2.log.gz`, …), or a
 * readable stream. Files are read in chain order, streamed in constant memory,
 * on `jobs` worker threads when given. The report says what was found and
 * concludes with its {@link VerifyReport.verdict}.
 *
 * @example
 * const report = await verify('logs/app.log', { jobs: 4 })
 * if (report.verdict === 'BROKEN') console.log(report.breaks[0]) // { file, line, offset, reason, … }
 * @throws ChainlogError NO_INPUT, NOT_CHAINLOG, ACCESS_DENIED, MULTIPLE_CHAINS, KEY_REQUIRED, KEY_MISMATCH, INVALID_OPTION, IO_ERROR
 */
export async function verify(input: string | string[] | NodeJS.ReadableStream, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (typeof input === 'object' && !Array.isArray(input)) return verifyStream(input, options)
  const { jobs, segmentBytes } = options
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `jobs must be a whole number of at least 1; got ${String(jobs)}`)
  if (segmentBytes !== undefined && (!Number.isInteger(segmentBytes) || segmentBytes < 1)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `segmentBytes must be a positive whole number; got ${String(segmentBytes)}`)
  const files = await resolveChainFiles(Array.isArray(input) ? input : [input])
  const total = files.reduce((n, f) => n + f.size, 0)
  if (jobs === undefined || options.onLine || options.onRecord || total < (options.minParallelBytes ?? DEFAULT_MIN_PARALLEL)) return verifyFiles(files, options)
  return verifyInParallel(files, { ...options, jobs })
}

async function verifyStream(input: NodeJS.ReadableStream, options: VerifyOptions): Promise<VerifyReport> {
  const verifier = new ChainVerifier(options)
  verifier.beginFile('-')
  let any = false
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      any = true
      verifier.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      if (options.pause) await options.pause()
      if (verifier.done) break
    }
  } catch (err) {
    // A gunzip in the stream: the compressed data is damaged or cut short.
    if (any && isZlibError(err)) verifier.abortFile((err as Error).message)
    else throw readError('-', err)
  }
  if (!any) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, '-: empty input', { path: '-' })
  verifier.endFile(true)
  const report = verifier.finish()
  if (report.chain === null) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, '-: not a chainlog file (no chainlog header found)', { path: '-' })
  return report
}

/** Verifies files resolved and ordered by {@link resolveChainFiles}, in this thread. */
async function verifyFiles(files: ChainFile[], options: VerifyOptions): Promise<VerifyReport> {
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
  return verifier.finish()
}
