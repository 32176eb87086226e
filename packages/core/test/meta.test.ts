import { describe, expect, test } from 'vitest'
import { escapeLine, FORMAT_VERSION, GENESIS, isHeader, metaLine, parseMeta, type HeaderMeta } from '../src/format'

const header: HeaderMeta = { t: 'header', v: FORMAT_VERSION, alg: 'sha256', chain: 'ab'.repeat(16), index: 0, file: 'app.1.log', prevFile: null, prevHash: GENESIS, seq: 0, time: '2026-11-22T10:00:00.000Z' }

describe('metadata records (FORMAT.md §4)', () => {
  test('metaLine is \\m followed by JSON.stringify, one physical line, and parseMeta reads it back', () => {
    const retention = { t: 'retention', time: 'x', deleted: [{ file: 'a\nb', index: 0, lastHash: GENESIS, records: 1 }] }
    for (const meta of [header, retention, { t: 'future-type', nested: { a: [1, 2] } }]) {
      const line = metaLine(meta)
      expect(line).toBe('\\m' + JSON.stringify(meta))
      expect(line).not.toMatch(/[\n\r]/)
      expect(parseMeta(line)).toEqual(meta)
    }
  })

  test.each([
    ['not metadata', '{"t":"header"}'],
    ['an escaped user line', escapeLine('\\m{"t":"header"}')],
    ['invalid JSON', '\\m{"t":'],
    ['an array', '\\m[{"t":"header"}]'],
    ['null', '\\mnull'],
    ['a string', '\\m"header"'],
    ['an object without t', '\\m{"type":"header"}'],
    ['a non-string t', '\\m{"t":1}'],
  ])('parseMeta rejects %s', (_name, stored) => {
    expect(parseMeta(stored)).toBeNull()
  })

  test('isHeader checks the type', () => {
    expect(isHeader(header)).toBe(true)
    expect(isHeader({ t: 'retention', time: '', deleted: [] })).toBe(false)
    expect(isHeader(null)).toBe(false)
  })
})
