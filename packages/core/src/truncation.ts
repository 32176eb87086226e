/**
 * The writer's view of its own file: whether the file it appends to still
 * ends where, and with the record, it left it. Other writers of the log only
 * ever add to a file, or start a newer one; a file that got shorter, or whose
 * record at the writer's last end is not the one it wrote, was cut by someone
 * else (an intruder, or `logrotate`'s copytruncate). Continuing from what is
 * left would launder the cut: a chain re-read from the shortened file, then
 * sealed, verifies (#12). What was found is described here as a truncation
 * record (FORMAT.md §7.1) for the writer to write first in its next file.
 */
import type { Current } from './discovery'
import type { TruncationMeta } from './meta'
import { isHash } from './record'
import { countLines, readTail } from './scan'

/** Bytes read back before a line end to find the start of that line (records longer than this start earlier: offset 0 is then given). */
const LOOK_BACK = 1 << 16

/**
 * Whether the file of `cur` (`size` bytes now, the same inode) is not as this
 * writer left it: shorter than its last end, or not ending there in the bytes
 * it left (its last record's hash and LF). One read of 65 bytes.
 */
export function isCut(cur: Current, size: number): boolean {
  if (size < cur.end) return true
  const n = cur.last.length
  if (n === 0) return false
  return !cur.sink.readAt(n, cur.end - n).equals(cur.last)
}

/**
 * What a writer that found its file cut records: what it had left there
 * (`cur`'s end, `prev`, the chain position `count`) and what it found.
 */
export function cutRecord(cur: Current, prev: string, count: number, time: string): TruncationMeta {
  const tail = readTail(cur.path)
  const lines = countLines(cur.path)
  const found = { size: tail.size, lines, hash: tail.last && isHash(tail.last.hash) ? tail.last.hash : null }
  const expected = { size: cur.end, lines: count - cur.header.seq, hash: prev, count }
  // Shorter: the first line gone is the first one missing. As long or longer, the writer's
  // last record was replaced: that line is the first it cannot vouch for.
  const at = found.size < expected.size || found.lines < expected.lines
    ? { line: Math.min(lines, expected.lines) + 1, offset: Math.min(tail.end, expected.size) }
    : { line: expected.lines, offset: lineStart(cur, expected.size) }
  return { t: 'truncation', time, file: cur.name, index: cur.header.index, expected, found, at }
}

/**
 * An empty file of the log, found by a writer that did not have it open. No
 * writer leaves a file of the log empty (a new file gets its name only with
 * its header in it), so it was emptied: what it held, nobody here knows.
 */
export function emptiedRecord(name: string, time: string): TruncationMeta {
  return { t: 'truncation', time, file: name, index: null, expected: null, found: { size: 0, lines: 0, hash: null }, at: { line: 1, offset: 0 } }
}

/** Byte offset of the start of the line that ends (with its LF) at `end` in `cur`'s file. */
function lineStart(cur: Current, end: number): number {
  const from = Math.max(0, end - 1 - LOOK_BACK)
  let window: Buffer
  try {
    window = cur.sink.readAt(end - 1 - from, from)
  } catch {
    return 0
  }
  const nl = window.lastIndexOf(0x0a)
  return nl === -1 ? 0 : from + nl + 1
}
