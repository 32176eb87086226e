import * as fs from 'node:fs'
import { createGunzip } from 'node:zlib'
import { resolveChainFiles, type ChainFile } from './inputs'
import { ChainlogError, ErrorCodes, isSystemError } from './errors'
import { ChainVerifier, type VerifierOptions, type VerifyReport } from './verifier'

export interface VerifyOptions extends VerifierOptions {
  /** Called after each chunk with bytes read so far and the total size on disk. */
  onProgress?: (done: number, total: number) => void
  /**
   * Called after each chunk; when it returns a promise, reading waits for it.
   * Lets a consumer of `onLine` apply backpressure (e.g. wait for stdout to drain).
   */
  pause?: () => Promise<void> | void
}

/** Bytes read at a time from a file. */
const CHUNK = 4 * 1024 * 1024

/**
 * Verifies the chain held in `inputs`: files, directories or a rotation base
 * path (`logs/app.log` finds `logs/app.1.log`, `logs/app.2.log.gz`, …), or a
 * readable stream. Files are read in chain order, streamed in constant memory.
 *
 * @example
 * const report = await verify('logs/app.log')
 * if (!report.ok) console.log(report.breaks[0]) // { file, line, offset, reason, … }
 * @throws ChainlogError NO_INPUT, NOT_CHAINLOG, ACCESS_DENIED, MULTIPLE_CHAINS, KEY_REQUIRED, KEY_MISMATCH
 */
export async function verify(inputs: string | string[] | NodeJS.ReadableStream, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (typeof inputs === 'object' && !Array.isArray(inputs)) {
    const verifier = new ChainVerifier(options)
    verifier.beginFile('-')
    let any = false
    try {
      for await (const chunk of inputs as AsyncIterable<Buffer | string>) {
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
    return notChainlogIfNothing(verifier.finish(), '-')
  }
  const files = await resolveChainFiles(Array.isArray(inputs) ? inputs : [inputs])
  return verifyFiles(files, options)
}

/**
 * Verifies files already resolved and ordered by {@link resolveChainFiles}, in this thread.
 * @internal
 */
export async function verifyFiles(files: ChainFile[], options: VerifyOptions = {}): Promise<VerifyReport> {
  const verifier = new ChainVerifier(options)
  const { onProgress, pause } = options
  const total = files.reduce((n, f) => n + f.size, 0)
  let before = 0
  for (let i = 0; i < files.length && !verifier.done; i++) {
    const file = files[i]!
    verifier.beginFile(file.path)
    const raw = fs.createReadStream(file.path, { highWaterMark: CHUNK })
    const stream = file.gz ? raw.pipe(createGunzip({ chunkSize: 1024 * 1024 })) : raw
    if (stream !== raw) raw.on('error', (err) => stream.destroy(err))
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        verifier.feed(chunk)
        onProgress?.(before + Math.min(raw.bytesRead, file.size), total)
        if (pause) await pause()
        if (verifier.done) break
      }
    } catch (err) {
      if (file.gz && isZlibError(err)) verifier.abortFile((err as Error).message)
      else throw readError(file.path, err)
    } finally {
      raw.destroy()
      stream.destroy()
    }
    before += file.size
    onProgress?.(before, total)
    verifier.endFile(i === files.length - 1)
  }
  return verifier.finish()
}

/** A zlib error: the compressed data is damaged or cut short (not an I/O failure). */
export function isZlibError(err: unknown): boolean {
  return isSystemError(err) && typeof err.code === 'string' && err.code.startsWith('Z_')
}

/** An error reading a chain file, as a ChainlogError naming the path. */
export function readError(file: string, err: unknown): ChainlogError {
  if (err instanceof ChainlogError) return err
  const code = isSystemError(err) ? err.code : undefined
  if (code === 'EACCES' || code === 'EPERM') return new ChainlogError(ErrorCodes.ACCESS_DENIED, `${file}: permission denied`, { path: file, cause: err })
  if (code === 'ENOENT') return new ChainlogError(ErrorCodes.IO_ERROR, `${file}: the file disappeared while it was being read`, { path: file, cause: err })
  if (code === 'EISDIR') return new ChainlogError(ErrorCodes.IS_DIRECTORY, `${file}: is a directory`, { path: file, cause: err })
  return new ChainlogError(ErrorCodes.IO_ERROR, `${file}: ${(err as Error).message}`, { path: file, cause: err })
}

function notChainlogIfNothing(report: VerifyReport, name: string): VerifyReport {
  if (report.chain === null) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${name}: not a chainlog file (no chainlog header found)`, { path: name })
  return report
}
