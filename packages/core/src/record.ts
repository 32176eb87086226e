/**
 * chainlog format 1, the record layer (docs/FORMAT.md §2–§4).
 *
 * A record is one physical line: `prev|line|hash\n`, where `prev` and `hash`
 * are exactly 64 lowercase hex characters read from the two ends of the line,
 * and `hash = H(prev + "|" + line)` over the bytes exactly as stored.
 */
import { ChainlogError, ErrorCodes } from './errors'

/** Width of `prev` and `hash` in hex characters (32-byte digests). */
export const HASH_HEX = 64
/** The `prev` of the very first record of a chain. */
export const GENESIS = '0'.repeat(HASH_HEX)
/** Bytes a record adds around its stored line: `prev|` + `|hash` + `\n`. */
export const RECORD_OVERHEAD = HASH_HEX * 2 + 3
/** Stored-line prefix of an escaped user line (FORMAT.md §3). */
export const ESCAPE_PREFIX = '\\e'
/** Stored-line prefix of a chainlog metadata record (FORMAT.md §4). */
export const META_PREFIX = '\\m'

const BACKSLASH = 0x5c
const LF = 0x0a
const CR = 0x0d
const PIPE = 0x7c

/** True when `s` is exactly 64 lowercase hex characters. */
export function isHash(s: string): boolean {
  if (s.length !== HASH_HEX) return false
  for (let i = 0; i < HASH_HEX; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/** True when bytes [start, start+64) of `buf` are lowercase hex. */
export function isHashBytes(buf: Uint8Array, start: number): boolean {
  if (start + HASH_HEX > buf.length) return false
  for (let i = start; i < start + HASH_HEX; i++) {
    const c = buf[i]!
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/**
 * True when bytes [start, end) of `buf`, one physical line without its `\n`,
 * have the bounds of a record (FORMAT.md §2): room for `prev|` and `|hash`,
 * with the two `|` where they must be. The fields themselves are not checked:
 * the verifier, the writer's recovery and `extract` each judge them.
 */
export function hasRecordBounds(buf: Uint8Array, start: number, end: number): boolean {
  return end - start >= RECORD_OVERHEAD - 1 && buf[start + HASH_HEX] === PIPE && buf[end - HASH_HEX - 1] === PIPE
}

/**
 * Turns a logger's line into its stored form (FORMAT.md §3). Lines without
 * CR/LF that do not start with `\` and are well-formed UTF-16 are stored
 * verbatim, which is every line pino and winston's JSON format produce.
 * Anything else is stored as `\e` + the line with `\` → `\\`, LF → `\n`,
 * CR → `\r` and each lone surrogate → `\uXXXX`, so that the stored form is one
 * physical line, can never be mistaken for metadata, and unescapes losslessly.
 */
export function escapeLine(line: string): string {
  if (line.charCodeAt(0) !== BACKSLASH && line.indexOf('\n') === -1 && line.indexOf('\r') === -1 && line.isWellFormed()) return line
  let out = ESCAPE_PREFIX
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c === BACKSLASH) out += '\\\\'
    else if (c === LF) out += '\\n'
    else if (c === CR) out += '\\r'
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = line.charCodeAt(i + 1)
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += line[i]! + line[i + 1]!
        i++
      } else {
        out += '\\u' + c.toString(16).padStart(4, '0')
      }
    } else out += line[i]
  }
  return out
}

/**
 * True when `text`, a run of LF-terminated lines, holds only lines that
 * escapeLine() stores verbatim: no CR, no line starting with `\`, and no lone
 * surrogate. Such a run can be queued as bytes and cut at its LFs.
 */
export function isPlainText(text: string): boolean {
  // A backslash anywhere is rare in a logger's output, and one memchr finds that: only then is each line's start looked at.
  return text.charCodeAt(0) !== BACKSLASH && (text.indexOf('\\') === -1 || text.indexOf('\n\\') === -1) && text.indexOf('\r') === -1 && text.isWellFormed()
}

/**
 * Inverse of {@link escapeLine} for a user line's stored form.
 * @throws RangeError on an escape sequence format 1 does not define.
 */
export function unescapeLine(stored: string): string {
  if (!stored.startsWith(ESCAPE_PREFIX)) return stored
  let out = ''
  for (let i = 2; i < stored.length; i++) {
    const c = stored[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const e = stored[++i]
    if (e === '\\') out += '\\'
    else if (e === 'n') out += '\n'
    else if (e === 'r') out += '\r'
    else if (e === 'u' && /^[0-9a-f]{4}$/.test(stored.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(stored.slice(i + 1, i + 5), 16))
      i += 4
    } else throw new RangeError(`invalid escape \\${e ?? ''} at position ${i - 1} of an escaped line`)
  }
  return out
}

/** What kind of content a stored line holds. */
export type LineKind = 'data' | 'escaped' | 'meta' | 'invalid'

/** Classifies a stored line by its first two characters (FORMAT.md §3, §4). */
export function lineKind(stored: string): LineKind {
  if (stored.charCodeAt(0) !== BACKSLASH) return 'data'
  if (stored.startsWith(ESCAPE_PREFIX)) return 'escaped'
  if (stored.startsWith(META_PREFIX)) return 'meta'
  return 'invalid'
}

/** A parsed record. `line` is the stored form. */
export interface Record {
  prev: string
  line: string
  hash: string
}

/**
 * Builds the physical line (with its trailing `\n`) for a stored line.
 * @returns the record text and its hash.
 */
export function encodeRecord(prev: string, stored: string, hashFn: (data: string) => string): { text: string; hash: string } {
  const body = prev + '|' + stored
  const hash = hashFn(body)
  return { text: body + '|' + hash + '\n', hash }
}

/**
 * Splits one physical line (without its `\n`) into its fields, reading `prev`
 * and `hash` from the two ends. Returns null when the line does not have the
 * shape of a record or a field is not exactly 64 lowercase hex characters.
 * Does not check the hash; see the verifier for that.
 */
export function parseRecord(physical: string): Record | null {
  const n = physical.length
  if (n < RECORD_OVERHEAD - 1) return null
  if (physical.charCodeAt(HASH_HEX) !== PIPE || physical.charCodeAt(n - HASH_HEX - 1) !== PIPE) return null
  const prev = physical.slice(0, HASH_HEX)
  const hash = physical.slice(n - HASH_HEX)
  if (!isHash(prev) || !isHash(hash)) return null
  return { prev, line: physical.slice(HASH_HEX + 1, n - HASH_HEX - 1), hash }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A line given as bytes, as text: it must be UTF-8, since the chain hashes the stored text and the file is UTF-8.
 * @internal
 */
export function decodeLine(line: unknown): string {
  if (!(line instanceof Uint8Array)) throw new TypeError(`write() expects a string or Uint8Array, got ${typeof line}`)
  try {
    return utf8.decode(line)
  } catch {
    throw new ChainlogError(ErrorCodes.INVALID_LINE, 'the line is not valid UTF-8; pass a string, or bytes that are UTF-8')
  }
}
