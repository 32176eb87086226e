import { openChainFile, resolveChainFiles, type ChainFile } from './inputs'
import { ChainlogError, ErrorCodes } from './errors'
import { ChainVerifier, type VerifierOptions, type VerifyReport } from './verifier'

export interface VerifyOptions extends VerifierOptions {
  /** Called after each chunk with bytes read so far and the total size on disk. */
  onProgress?: (done: number, total: number) => void
}

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
  const verifier = new ChainVerifier(options)
  if (typeof inputs === 'object' && !Array.isArray(inputs)) {
    verifier.beginFile('-')
    let any = false
    for await (const chunk of inputs as AsyncIterable<Buffer | string>) {
      any = true
      verifier.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      if (verifier.done) break
    }
    if (!any) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, '-: empty input', { path: '-' })
    verifier.endFile(true)
    return notChainlogIfNothing(verifier.finish(), '-')
  }
  const files = await resolveChainFiles(Array.isArray(inputs) ? inputs : [inputs])
  return verifyFiles(files, verifier, options.onProgress)
}

async function verifyFiles(files: ChainFile[], verifier: ChainVerifier, onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
  const total = files.reduce((n, f) => n + f.size, 0)
  let before = 0
  for (let i = 0; i < files.length && !verifier.done; i++) {
    const file = files[i]!
    verifier.beginFile(file.path)
    const stream = openChainFile(file)
    const raw = file.gz ? null : stream
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        verifier.feed(chunk)
        if (onProgress) onProgress(before + (raw ? (raw as unknown as { bytesRead: number }).bytesRead : 0), total)
        if (verifier.done) break
      }
    } catch (err) {
      throw new ChainlogError(ErrorCodes.IO_ERROR, `${file.path}: ${(err as Error).message}`, { path: file.path, cause: err })
    } finally {
      ;(stream as unknown as { destroy(): void }).destroy()
    }
    before += file.size
    onProgress?.(before, total)
    verifier.endFile(i === files.length - 1)
  }
  return verifier.finish()
}

function notChainlogIfNothing(report: VerifyReport, name: string): VerifyReport {
  if (report.chain === null) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${name}: not a chainlog file (no chainlog header found)`, { path: name })
  return report
}
