/**
 * How a break shows its offending line (`Break.text`): short enough to
 * print, and for a record, its stored line rather than 64 hex characters.
 */
import { hasRecordBounds, HASH_HEX } from './record'

/** Characters of a line shown in a break. */
const SHOW = 160
/** Bytes of a line enough to show it (a character is at most 4 bytes of UTF-8). */
export const SHOWN_BYTES = SHOW * 4
/** Hex characters of prev and hash shown around a shortened record. */
const SHOW_HASH = 8

/** The start of a line as text, `show` characters at most, with an ellipsis when cut. */
export function shortenText(buf: Buffer, start: number, end: number, show = SHOW): string {
  const text = buf.toString('utf8', start, Math.min(end, start + show * 4))
  return text.length > show ? text.slice(0, show) + '…' : text
}

/**
 * The offending line for display. A line with the shape of a record shows
 * the start of its prev and hash around its stored line, so that the part a
 * reader cares about is not pushed out by 64 hex characters.
 */
export function shorten(buf: Buffer, start: number, end: number): string {
  if (hasRecordBounds(buf, start, end)) {
    const prev = buf.toString('latin1', start, start + SHOW_HASH)
    const hash = buf.toString('latin1', end - HASH_HEX, end - HASH_HEX + SHOW_HASH)
    return `${prev}…|${shortenText(buf, start + HASH_HEX + 1, end - HASH_HEX - 1, SHOW - 2 * SHOW_HASH - 6)}|${hash}…`
  }
  return shortenText(buf, start, end)
}

/** The first `n` bytes of a line received in parts (at most n bytes are copied). */
export function headOf(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = []
  let got = 0
  for (const p of parts) {
    if (got >= n) break
    out.push(p.subarray(0, n - got))
    got += Math.min(p.length, n - got)
  }
  return Buffer.concat(out, got)
}
