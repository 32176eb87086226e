import * as fs from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { isHeader, parseMeta, type HeaderMeta } from './meta'
import { parseRecord, type Record } from './record'

/** What a writer needs to know about the last file of a chain before it appends. */
export interface FileTail {
  path: string
  /** File size in bytes. */
  size: number
  /** Parsed header record (line 1), or null when line 1 is not a header. */
  header: HeaderMeta | null
  /** Number of complete physical lines (ending in `\n`). */
  lines: number
  /** `prev` and `hash` of the last complete line (null if none or malformed). */
  last: Pick<Record, 'prev' | 'hash'> | null
  /** The last complete physical line's bytes, without `\n`. */
  lastBytes: Buffer | null
  /** Bytes after the last `\n`: a record torn by a crash, or null. */
  fragment: Buffer | null
}

const CHUNK = 1 << 20
const LF = 0x0a

type ReadAt = (into: Buffer, offset: number, length: number, position: number) => number

/**
 * Reads a chain file once: counts its lines, parses its header and its last
 * complete record, and returns any trailing bytes after the last newline.
 * Only one chunk, the first line and the last line are held in memory.
 * A `.gz` file is decompressed first (rotated files are bounded by `size`).
 */
export function scanFile(path: string): FileTail {
  if (path.endsWith('.gz')) {
    const data = gunzipSync(fs.readFileSync(path))
    return scan(path, data.length, (into, offset, length, position) => data.copy(into, offset, position, position + length))
  }
  const fd = fs.openSync(path, 'r')
  try {
    return scan(path, fs.fstatSync(fd).size, (into, offset, length, position) => fs.readSync(fd, into, offset, length, position))
  } finally {
    fs.closeSync(fd)
  }
}

function scan(path: string, size: number, readAt: ReadAt): FileTail {
  let lines = 0
  let lastLf = -1
  let prevLf = -1
  let firstLf = -1
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)))
  for (let pos = 0; pos < size; ) {
    const n = readAt(buf, 0, Math.min(buf.length, size - pos), pos)
    if (n === 0) break
    let i = buf.indexOf(LF, 0)
    while (i !== -1 && i < n) {
      lines++
      prevLf = lastLf
      lastLf = pos + i
      if (firstLf === -1) firstLf = lastLf
      i = buf.indexOf(LF, i + 1)
    }
    pos += n
  }
  const read = (start: number, end: number) => {
    const out = Buffer.allocUnsafe(end - start)
    let off = 0
    while (off < out.length) {
      const n = readAt(out, off, out.length - off, start + off)
      if (n === 0) break
      off += n
    }
    return out.subarray(0, off)
  }
  let header: HeaderMeta | null = null
  if (firstLf !== -1) {
    const rec = parseRecord(read(0, firstLf).toString('utf8'))
    const meta = rec ? parseMeta(rec.line) : null
    if (isHeader(meta)) header = meta
  }
  const lastBytes = lastLf === -1 ? null : read(prevLf + 1, lastLf)
  // prev and hash are ASCII, so latin1 decoding finds them without caring
  // whether the stored line in between is valid UTF-8.
  const last = lastBytes && parseRecord(lastBytes.toString('latin1'))
  const fragment = lastLf + 1 < size ? read(lastLf + 1, size) : null
  return { path, size, header, lines, last: last ? { prev: last.prev, hash: last.hash } : null, lastBytes, fragment }
}
