import { describe, expect, test } from 'vitest'
import { createHashFn, encodeRecord, escapeLine, GENESIS, HASH_HEX, isHash, lineKind, parseRecord, RECORD_OVERHEAD, unescapeLine } from '../src/format'
import { hasRecordBounds, isHashBytes } from '../src/record'
import { prng } from './helpers'

const sha = createHashFn('sha256')
const H = 'ab'.repeat(32)

describe('escapeLine / unescapeLine (FORMAT.md §3)', () => {
  test.each([
    ['empty', ''],
    ['plain', 'hello world'],
    ['pino JSON', '{"level":30,"msg":"hi"}'],
    ['pipes', '|a||b|'],
    ['NUL', 'a\u0000b'],
    ['non-ASCII and a surrogate pair', 'héllo ✓ \ud83d\ude00'],
    ['a backslash not at the start', 'C:\\temp'],
    ['a line that looks like a whole record', `${GENESIS}|x|${H}`],
  ])('%s is stored verbatim', (_name, line) => {
    expect(escapeLine(line)).toBe(line)
    expect(unescapeLine(line)).toBe(line)
  })

  test.each([
    ['LF', 'a\nb', '\\ea\\nb'],
    ['CR', 'a\rb', '\\ea\\rb'],
    ['CRLF', 'a\r\nb', '\\ea\\r\\nb'],
    ['leading backslash', '\\x', '\\e\\\\x'],
    ['backslashes in an escaped line', 'C:\\p\nq', '\\eC:\\\\p\\nq'],
    ['lone high surrogate', 'a\ud800b', '\\ea\\ud800b'],
    ['lone low surrogate at the end', 'a\udfff', '\\ea\\udfff'],
    ['surrogate pair beside a lone one', '\ud83d\ude00\ud83d', '\\e\ud83d\ude00\\ud83d'],
    ['imitates metadata', '\\m{"t":"header"}', '\\e\\\\m{"t":"header"}'],
    ['imitates an escaped line', '\\e\\n', '\\e\\\\e\\\\n'],
    ['only a backslash', '\\', '\\e\\\\'],
  ])('%s is escaped and round-trips', (_name, line, stored) => {
    expect(escapeLine(line)).toBe(stored)
    expect(unescapeLine(stored)).toBe(line)
  })

  test('the stored form of any line is one physical line, well-formed, never metadata, and unescapes losslessly', () => {
    const alphabet = ['a', 'e', 'm', 'n', 'r', 'u', '0', 'd', '8', '|', '\\', '\n', '\r', '\u0000', '\ud800', '\udc00', '\ud83d\ude00', 'é', '{', '"']
    const rnd = prng(1)
    for (let i = 0; i < 5000; i++) {
      let line = ''
      const len = Math.floor(rnd() * 12)
      for (let j = 0; j < len; j++) line += alphabet[Math.floor(rnd() * alphabet.length)]
      const stored = escapeLine(line)
      expect(stored).not.toMatch(/[\n\r]/)
      expect(stored.isWellFormed()).toBe(true)
      expect(stored.startsWith('\\m')).toBe(false)
      expect(lineKind(stored)).not.toBe('invalid')
      expect(unescapeLine(stored)).toBe(line)
    }
  })

  test.each([
    ['an unknown escape', '\\ea\\tb'],
    ['a backslash at the end', '\\eab\\'],
    ['a short \\u escape', '\\e\\ud80'],
    ['an uppercase \\u escape', '\\e\\uD800'],
  ])('unescapeLine rejects %s with a RangeError', (_name, stored) => {
    expect(() => unescapeLine(stored)).toThrow(RangeError)
  })
})

describe('lineKind', () => {
  test('classifies by the first two characters', () => {
    expect(lineKind('{"a":1}')).toBe('data')
    expect(lineKind('')).toBe('data')
    expect(lineKind('\\eabc')).toBe('escaped')
    expect(lineKind('\\m{"t":"x"}')).toBe('meta')
    expect(lineKind('\\x')).toBe('invalid')
    expect(lineKind('\\')).toBe('invalid')
  })
})

describe('isHash', () => {
  test('accepts exactly 64 lowercase hex characters', () => {
    expect(isHash(H)).toBe(true)
    expect(isHash('0123456789abcdef'.repeat(4))).toBe(true)
  })
  test.each([
    ['one uppercase letter', 'A' + H.slice(1)],
    ['all uppercase', H.toUpperCase()],
    ['63 characters', H.slice(1)],
    ['65 characters', H + 'a'],
    ['a non-hex letter', 'g' + H.slice(1)],
    ['a space', ' ' + H.slice(1)],
    ['empty', ''],
  ])('rejects %s', (_name, s) => {
    expect(isHash(s)).toBe(false)
    // isHashBytes reads a field inside a longer line, so bytes after the 64 are not its concern.
    if (s.length <= 64) expect(isHashBytes(Buffer.from(s, 'latin1'), 0)).toBe(false)
  })
  test('isHashBytes reads at an offset and fails past the end', () => {
    const buf = Buffer.from('xx' + H)
    expect(isHashBytes(buf, 2)).toBe(true)
    expect(isHashBytes(buf, 1)).toBe(false)
    expect(isHashBytes(buf, 3)).toBe(false)
  })
})

describe('encodeRecord / parseRecord (FORMAT.md §2)', () => {
  test('a record is prev|line|hash\\n with hash = H(prev|line)', () => {
    const { text, hash } = encodeRecord(GENESIS, 'hello', sha)
    expect(text).toBe(`${GENESIS}|hello|${hash}\n`)
    expect(hash).toBe(sha(`${GENESIS}|hello`))
    expect(parseRecord(text.slice(0, -1))).toEqual({ prev: GENESIS, line: 'hello', hash })
  })

  test('the shortest record (empty line) is RECORD_OVERHEAD - 1 characters without its LF', () => {
    const { text } = encodeRecord(GENESIS, '', sha)
    expect(text.length).toBe(RECORD_OVERHEAD)
    expect(parseRecord(text.slice(0, -1))?.line).toBe('')
    expect(parseRecord(text.slice(1, -1))).toBeNull()
  })

  test('fields are read from the two ends, so | and a whole record inside the line are data', () => {
    const inner = `${H}|forged|${H}`
    const { text, hash } = encodeRecord(H, inner, sha)
    expect(parseRecord(text.slice(0, -1))).toEqual({ prev: H, line: inner, hash })
  })

  test.each([
    ['uppercase prev', (r: string) => r.slice(0, 10).toUpperCase() + r.slice(10)],
    ['uppercase hash', (r: string) => r.slice(0, -1) + 'A'],
    ['prev one character short', (r: string) => r.slice(1)],
    ['prev one character long', (r: string) => 'a' + r],
    ['hash one character short', (r: string) => r.slice(0, -1)],
    ['hash one character long', (r: string) => r + 'a'],
    ['no | after prev', (r: string) => r.slice(0, HASH_HEX) + ':' + r.slice(HASH_HEX + 1)],
    ['no | before hash', (r: string) => r.slice(0, r.length - HASH_HEX - 1) + ':' + r.slice(r.length - HASH_HEX)],
    ['non-hex prev', (r: string) => 'z' + r.slice(1)],
    ['too short', () => GENESIS + '|' + GENESIS],
  ])('rejects %s', (_name, mutate) => {
    const { text } = encodeRecord(H, 'x|y', sha)
    const good = text.slice(0, -1)
    expect(parseRecord(good)).not.toBeNull()
    expect(parseRecord(mutate(good))).toBeNull()
  })

  test('parseRecord does not check the hash (that is the verifier\'s job)', () => {
    const { text } = encodeRecord(H, 'x', sha)
    const edited = text.slice(0, -1).replace('|x|', '|y|')
    expect(parseRecord(edited)?.line).toBe('y')
    expect(sha(edited.slice(0, -HASH_HEX - 1))).not.toBe(edited.slice(-HASH_HEX))
  })
})

describe('hasRecordBounds (FORMAT.md §2)', () => {
  const rec = Buffer.from(`${H}|a|b|${H}`)
  test('a record has them, wherever it sits in the buffer, and parseRecord agrees on record-shaped lines', () => {
    expect(hasRecordBounds(rec, 0, rec.length)).toBe(true)
    const framed = Buffer.concat([Buffer.from('xx\n'), rec, Buffer.from('\nyy')])
    expect(hasRecordBounds(framed, 3, 3 + rec.length)).toBe(true)
    expect(parseRecord(rec.toString('latin1'))).not.toBeNull()
    const empty = Buffer.from(`${H}||${H}`)
    expect(empty.length).toBe(RECORD_OVERHEAD - 1)
    expect(hasRecordBounds(empty, 0, empty.length)).toBe(true)
  })

  test('too short, or a | missing at either end: no bounds', () => {
    const short = Buffer.from(`${H}|${H}`)
    expect(hasRecordBounds(short, 0, short.length)).toBe(false)
    for (const at of [HASH_HEX, rec.length - HASH_HEX - 1]) {
      const bad = Buffer.from(rec)
      bad[at] = 0x2d
      expect(hasRecordBounds(bad, 0, bad.length)).toBe(false)
    }
  })
})
