import * as fs from 'node:fs'
import { constants as zlibConstants, gunzipSync } from 'node:zlib'
import { isHeader, parseMeta, type HeaderMeta } from './meta'
import { parseRecord, type Record } from './record'

/**
 * What a writer needs to know about the last file of a chain before it appends.
 * @internal
 */
export interface FileTail {
  path: string
  /** File size in bytes. */
  size: number
  /** Parsed header record (line 1), or null when line 1 is not a header. */
  header: HeaderMeta | null
  /** Number of complete physical lines (ending in `\n`); -1 when not counted. */
  lines: number
  /** `prev` and `hash` of the last complete line (null if none or malformed). */
  last: Pick<Record, 'prev' | 'hash'> | null
  /** The last complete physical line's bytes, without `\n`. */
  lastBytes: Buffer | null
  /** Byte offset just after the last `\n` (where a torn fragment starts). */
  end: number
  /** Byte offset just after the first `\n` (the end of the header line), or 0. */
  headerEnd: number
  /** Bytes after the last `\n`: a record torn by a crash, or null. */
  fragment: Buffer | null
}

const CHUNK = 1 << 16
const COUNT_CHUNK = 1 << 20
const HEADER_MAX = 1 << 16
const LF = 0x0a

type ReadAt = (into: Buffer, offset: number, length: number, position: number) => number

interface Source {
  size: number
  readAt: ReadAt
  close(): void
}

function openSource(path: string): Source {
  if (path.endsWith('.gz')) {
    const data = gunzipSync(fs.readFileSync(path))
    return { size: data.length, readAt: (into, offset, length, position) => data.copy(into, offset, position, position + length), close() {} }
  }
  const fd = fs.openSync(path, 'r')
  try {
    return { size: fs.fstatSync(fd).size, readAt: (into, offset, length, position) => fs.readSync(fd, into, offset, length, position), close: () => fs.closeSync(fd) }
  } catch (err) {
    fs.closeSync(fd)
    throw err
  }
}

function readRange(src: Source, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start)
  let off = 0
  while (off < out.length) {
    const n = src.readAt(out, off, out.length - off, start + off)
    if (n === 0) break
    off += n
  }
  return out.subarray(0, off)
}

/** Offset of the last LF in [0, before), or -1; reads backwards in chunks. */
function lastLfBefore(src: Source, before: number): number {
  const buf = Buffer.allocUnsafe(CHUNK)
  for (let hi = before; hi > 0; ) {
    const lo = Math.max(0, hi - CHUNK)
    const n = src.readAt(buf, 0, hi - lo, lo)
    const i = buf.subarray(0, n).lastIndexOf(LF)
    if (i !== -1) return lo + i
    hi = lo
  }
  return -1
}

function tailOf(path: string, src: Source): FileTail {
  const size = src.size
  let header: HeaderMeta | null = null
  const first = readRange(src, 0, Math.min(size, HEADER_MAX))
  const firstLf = first.indexOf(LF)
  if (firstLf !== -1) {
    const rec = parseRecord(first.toString('utf8', 0, firstLf))
    const meta = rec ? parseMeta(rec.line) : null
    if (isHeader(meta)) header = meta
  }
  const lastLf = lastLfBefore(src, size)
  const prevLf = lastLf === -1 ? -1 : lastLfBefore(src, lastLf)
  const lastBytes = lastLf === -1 ? null : readRange(src, prevLf + 1, lastLf)
  // prev and hash are ASCII, so latin1 decoding finds them without caring
  // whether the stored line in between is valid UTF-8.
  const last = lastBytes && parseRecord(lastBytes.toString('latin1'))
  const fragment = lastLf + 1 < size ? readRange(src, lastLf + 1, size) : null
  return { path, size, header, lines: -1, last: last ? { prev: last.prev, hash: last.hash } : null, lastBytes, end: lastLf + 1, headerEnd: firstLf + 1, fragment }
}

/**
 * Reads what a writer needs from the end of a chain file: its header, its last
 * complete line and any torn fragment after the last newline. Reads only the
 * first line and the tail, so it is cheap on any file size. `.gz` files are
 * decompressed first (rotated files are bounded by `size`).
 * @internal
 */
export function readTail(path: string): FileTail {
  const src = openSource(path)
  try {
    return tailOf(path, src)
  } finally {
    src.close()
  }
}

/**
 * Counts the newlines of a file in [from, to).
 * @internal
 */
export function countLines(path: string, from = 0, to = Infinity): number {
  const src = openSource(path)
  try {
    const end = Math.min(to, src.size)
    const buf = Buffer.allocUnsafe(COUNT_CHUNK)
    let lines = 0
    for (let pos = from; pos < end; ) {
      const n = src.readAt(buf, 0, Math.min(COUNT_CHUNK, end - pos), pos)
      if (n === 0) break
      for (let i = buf.indexOf(LF, 0); i !== -1 && i < n; i = buf.indexOf(LF, i + 1)) lines++
      pos += n
    }
    return lines
  } finally {
    src.close()
  }
}

/**
 * {@link readTail} plus the number of complete lines in the file.
 * @internal
 */
export function scanFile(path: string): FileTail {
  const src = openSource(path)
  try {
    const tail = tailOf(path, src)
    return { ...tail, lines: countLines(path, 0, tail.end) }
  } finally {
    src.close()
  }
}

/**
 * Whether a file was written by chainlog: line 1 is a chainlog header, or one
 * of its first lines has the shape of a record (a chain file whose header was
 * damaged, which stays the chain's so that the verifier reports it). An
 * empty file, or one of plain log lines (pino-roll's, winston's), is not:
 * a writer never appends to, compresses or deletes it. Reads at most the
 * first 64 KiB (decompressed, for `.gz`).
 * @internal
 */
export function isChainFile(path: string): boolean {
  let head: Buffer
  const fd = fs.openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(HEADER_MAX)
    head = buf.subarray(0, fs.readSync(fd, buf, 0, HEADER_MAX, 0))
  } finally {
    fs.closeSync(fd)
  }
  if (path.endsWith('.gz')) {
    try {
      // A prefix of the archive: flush what it holds instead of failing on its missing end.
      head = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, HEADER_MAX)
    } catch {
      return false
    }
  }
  let start = 0
  for (let nl = head.indexOf(LF); nl !== -1; nl = head.indexOf(LF, start)) {
    if (parseRecord(head.toString('utf8', start, nl))) return true
    start = nl + 1
  }
  return false
}
