/**
 * The verifier's hot loop over a byte range (issue #5): accepts consecutive
 * plain user records that need nothing but their hash and their link checked.
 * The sequential verifier and the parallel workers run the same loop; a worker
 * imports this file alone, without the rest of the verify path.
 */
import type { HashFn } from './algorithm'
import { hasRecordBounds, HASH_HEX, unescapeLine } from './record'

const LF = 0x0a
const BACKSLASH = 0x5c
const LOWER_E = 0x65

/**
 * The result of {@link scanRun}. One object is reused across calls.
 * @internal
 */
export interface RunScan {
  /** Position after the LF of the last line accepted (the start position when none was). */
  end: number
  /** Lines accepted. */
  count: number
  /** Hash of the last line accepted. */
  hash: string
  /** Stored line of the first and last line accepted: [start, end) in the buffer. */
  firstStart: number
  firstEnd: number
  lastStart: number
  lastEnd: number
  /** 0-based index among the accepted lines of the first whose hash equals `watch`, or -1. */
  watchAt: number
}

/** @internal */
export function newRunScan(): RunScan {
  return { end: 0, count: 0, hash: '', firstStart: 0, firstEnd: 0, lastStart: 0, lastEnd: 0, watchAt: -1 }
}

/**
 * The verifier's hot loop. Starting at `start`, accepts consecutive complete
 * lines of `buf` (ending before `limit`) that the full per-line logic would
 * accept as plain records with no side effect beyond advancing the chain:
 * record-shaped, not line 1 of a file (the caller's business), a user line
 * (verbatim, or escaped with valid escapes), linked to the line before
 * (the first to `expected`), and matching its hash. It stops at the first line
 * that is anything else, without judging it: that line goes through the full
 * logic. A worker verifying a slice of a file runs the same loop.
 *
 * The result is written to `out`.
 * @internal
 */
export function scanRun(buf: Buffer, start: number, limit: number, expected: string, hashFn: HashFn, watch: string | null, out: RunScan): void {
  const batch = hashFn.batch ?? null
  const st = nativeState
  let pos = start
  let count = 0
  let hash = expected
  /** Where the hash field of the last line accepted starts, -1 before the first. */
  let prevAt = -1
  let watchAt = -1
  let firstStart = 0
  let firstEnd = 0
  let lastStart = 0
  let lastEnd = 0
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length)
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
  const ab = buf.buffer
  const base = buf.byteOffset
  for (;;) {
    if (batch !== null) {
      // The native path (#17): the addon takes every verbatim record it can accept, in one call.
      batch.scanRecords(buf, pos, limit, hash, watch, st)
      const n = st[1]!
      if (n > 0) {
        if (count === 0) {
          firstStart = st[2]!
          firstEnd = st[3]!
        }
        lastStart = st[4]!
        lastEnd = st[5]!
        if (watchAt === -1 && st[6]! >= 0) watchAt = count + st[6]!
        count += n
        pos = st[0]!
        prevAt = lastEnd + 1
        hash = latin1(buf, prevAt, prevAt + HASH_HEX)
      }
    }
    // One line checked here: every line on the JS path; on the native path, the one kind of line
    // the addon leaves alone that may still belong to the run, an escaped line (its escapes are
    // checked once, by unescapeLine).
    const nl = buf.indexOf(LF, pos)
    if (nl === -1 || nl >= limit || !hasRecordBounds(bytes, pos, nl)) break
    const bodyEnd = nl - HASH_HEX - 1
    if (bytes[pos + HASH_HEX + 1] === BACKSLASH ? !validEscaped(buf, pos + HASH_HEX + 1, bodyEnd) : batch !== null) break
    if (prevAt === -1 ? latin1(buf, pos, pos + HASH_HEX) !== hash : !sameBytes(dv, pos, prevAt)) break
    // A plain Uint8Array over the line costs half what subarray() does (no species lookup).
    const computed = hashFn(new Uint8Array(ab, base + pos, bodyEnd - pos))
    if (latin1(buf, nl - HASH_HEX, nl) !== computed) break
    if (watch !== null && watchAt === -1 && computed === watch) watchAt = count
    if (count === 0) {
      firstStart = pos + HASH_HEX + 1
      firstEnd = bodyEnd
    }
    lastStart = pos + HASH_HEX + 1
    lastEnd = bodyEnd
    hash = computed
    prevAt = nl - HASH_HEX
    count++
    pos = nl + 1
  }
  out.end = pos
  out.count = count
  out.hash = hash
  out.firstStart = firstStart
  out.firstEnd = firstEnd
  out.lastStart = lastStart
  out.lastEnd = lastEnd
  out.watchAt = watchAt
}

/** Where the addon reports a run: [end, count, firstStart, firstEnd, lastStart, lastEnd, watchAt]. */
const nativeState = new Float64Array(7)

/**
 * `buf.toString('latin1', start, end)` without the encoding dispatch. Buffer's
 * own latin1Slice() is what toString() calls; it is not in the typings, so
 * fall back to toString() where it is missing.
 */
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end)

/**
 * Bytes [a, a+64) and [b, b+64) are equal, compared 8 at a time as doubles.
 * Doubles compare equal exactly when their bits do, except for ±0 and NaN;
 * `b` is always a verified hash (hex digits, 0x30–0x66), which is neither,
 * so no other bytes at `a` can compare equal.
 */
function sameBytes(dv: DataView, a: number, b: number): boolean {
  for (let i = 0; i < HASH_HEX; i += 8) if (dv.getFloat64(a + i) !== dv.getFloat64(b + i)) return false
  return true
}

/** An escaped stored line (`\e…`) whose escapes are all valid (FORMAT.md §3). */
function validEscaped(buf: Buffer, start: number, end: number): boolean {
  if (buf[start + 1] !== LOWER_E) return false
  try {
    unescapeLine(buf.toString('utf8', start, end))
    return true
  } catch {
    return false
  }
}
