/**
 * The verify path's one way to read a chain file: plain, or gzipped (every
 * member, to its real end), and its one way to say why reading failed.
 */
import * as fs from 'node:fs'
import { createGunzip } from 'node:zlib'
import { ChainlogError, ErrorCodes, isSystemError, pathError, type SystemErrorContext } from './errors'

/**
 * An open chain file: its (decompressed) chunks, in order.
 * @internal
 */
export interface OpenedFile extends AsyncIterable<Buffer> {
  /** Bytes read from the disk so far (compressed, for .gz). */
  readonly bytesRead: number
  /** Stops reading and releases the file; safe to call more than once. */
  close(): void
}

/**
 * How {@link openChainFile} reads: the defaults are Node's and zlib's.
 * @internal
 */
export interface OpenOptions {
  /** Bytes read from the disk at a time (Node's default when absent). */
  highWaterMark?: number
  /** Largest decompressed chunk of a .gz (zlib's default when absent). */
  chunkSize?: number
  /** Last byte to read, inclusive (plain files only). */
  end?: number
}

/**
 * Opens a chain file for reading, decompressing .gz. A read error reaches the
 * consumer of the decompressed chunks (not only the file stream under them),
 * and {@link OpenedFile.close} releases both.
 * @internal
 */
export function openChainFile(path: string, gz: boolean, options: OpenOptions = {}): OpenedFile {
  const raw = fs.createReadStream(path, {
    ...(options.highWaterMark !== undefined && { highWaterMark: options.highWaterMark }),
    ...(!gz && options.end !== undefined && { end: options.end }),
  })
  let stream: NodeJS.ReadableStream & { destroy(err?: Error): void } = raw
  if (gz) {
    const gunzip = createGunzip(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize })
    raw.on('error', (err) => gunzip.destroy(err))
    stream = raw.pipe(gunzip)
  }
  return {
    [Symbol.asyncIterator]: () => (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](),
    get bytesRead() {
      return raw.bytesRead
    },
    close() {
      raw.destroy()
      if (stream !== raw) stream.destroy()
    },
  }
}

/**
 * A zlib error: the compressed data is damaged or cut short (not an I/O failure).
 * @internal
 */
export function isZlibError(err: unknown): boolean {
  return isSystemError(err) && typeof err.code === 'string' && err.code.startsWith('Z_')
}

/** ENOENT while a file of the chain is read: it was there when the inputs were resolved. */
const READING: SystemErrorContext = { ENOENT: { code: ErrorCodes.IO_ERROR, words: 'the file disappeared while it was being read' } }

/**
 * An error reading a chain file, as a ChainlogError naming the path (from the one errno table).
 * @internal
 */
export function readError(file: string, err: unknown): ChainlogError {
  return pathError(err, file, file, READING)
}

/** Bytes of a file's start read to describe it (its header, the shape of its first records, a key's fit). */
export const HEAD_BYTES = 64 * 1024

/**
 * Reads up to the first {@link HEAD_BYTES} of a chain file (decompressed for
 * .gz); null when a .gz is not gzip at all. A read error (permission denied,
 * say) is thrown: it is the file's, and must not pass for a missing file.
 * @internal
 */
export async function readHead(file: string, gz: boolean): Promise<Buffer | null> {
  const opened = openChainFile(file, gz, { end: HEAD_BYTES - 1 })
  const parts: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of opened) {
      parts.push(chunk)
      total += chunk.length
      if (total >= HEAD_BYTES) break
    }
  } catch (err) {
    // Only data that is not gzip makes a .gz file "not a chain file".
    if (!gz || !isZlibError(err)) throw err
    if (total === 0) return null
  } finally {
    opened.close()
  }
  const head = Buffer.concat(parts, total)
  return head.length > HEAD_BYTES ? head.subarray(0, HEAD_BYTES) : head
}

/**
 * The byte offset of the start of 1-based line `line` of a chain file (in
 * the decompressed data for .gz), read by counting line ends; -1 when the file
 * has fewer lines. For a break found only after its line was read past.
 * @internal
 */
export async function lineOffset(file: string, gz: boolean, line: number): Promise<number> {
  const opened = openChainFile(file, gz)
  let seen = 1
  let pos = 0
  try {
    for await (const chunk of opened) {
      let at = 0
      while (seen < line) {
        const nl = chunk.indexOf(0x0a, at)
        if (nl === -1) break
        seen++
        at = nl + 1
      }
      if (seen === line) return pos + at
      pos += chunk.length
    }
  } catch (err) {
    throw readError(file, err)
  } finally {
    opened.close()
  }
  return -1
}
