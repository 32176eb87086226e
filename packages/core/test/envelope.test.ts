import { describe, expect, test } from 'vitest'
import { EnvelopeReader, shapeOf } from '../src/envelope'
import { createHashFn, encodeRecord, GENESIS } from '../src/format'

const sha = createHashFn('sha256')
const rec = encodeRecord(GENESIS, '{"level":30,"msg":"hi"}', sha).text.slice(0, -1)
const T = '2026-12-01T10:00:00.123456789Z'

const texts = (reader: EnvelopeReader, lines: string[]) =>
  lines.map((l, i) => reader.read(l, i + 1)).flatMap((x) => (x.kind === 'text' ? [[x.envelope, x.text, x.line]] : x.kind === 'none' ? [['none', x.envelope, x.line]] : []))

describe('EnvelopeReader: the record out of each envelope', () => {
  test.each([
    ['a bare record', rec, 'record'],
    ['a bare record with CRLF', rec + '\r', 'record'],
    ['Loki jsonl', JSON.stringify({ labels: { app: 'a' }, line: rec, timestamp: T }), 'loki'],
    ['an Elasticsearch hit, message', JSON.stringify({ _index: 'i', _id: '1', _source: { message: rec } }), 'elasticsearch'],
    ['an Elasticsearch hit, log', JSON.stringify({ _index: 'i', _id: '1', _source: { log: rec + '\n' } }), 'elasticsearch'],
    ['Vector', JSON.stringify({ message: rec, host: 'h', source_type: 'file' }), 'json'],
    ['Fluent Bit', JSON.stringify({ date: 1.5, log: rec + '\n' }), 'json'],
    ['Docker json-file', JSON.stringify({ log: rec + '\n', stream: 'stdout', time: T }), 'docker'],
    ['CRI', `${T} stdout F ${rec}`, 'cri'],
    ['RFC 5424 without SD', `<14>1 2026-12-01T10:00:00.123Z vm app 42 - - ${rec}`, 'syslog'],
    ['RFC 5424 with SD', `<14>1 2026-12-01T10:00:00Z vm app - ID7 [ex@32473 a="x]y" b="\\"q\\""][z@1 c="1"] ${rec}`, 'syslog'],
    ['RFC 5424 with a BOM', `<14>1 2026-12-01T10:00:00Z vm app - - - \ufeff${rec}`, 'syslog'],
    ['RFC 3164', `<14>Dec  1 10:00:00 vm app[42]: ${rec}`, 'syslog'],
    ['rsyslog RSYSLOG_FileFormat', `2026-12-01T10:00:00.527844+00:00 vm app ${rec}`, 'syslog'],
    ['rsyslog RSYSLOG_TraditionalFileFormat', `Dec  1 10:00:00 vm app: ${rec}`, 'syslog'],
  ])('%s', (_name, line, envelope) => {
    expect(texts(new EnvelopeReader(), [line])).toEqual([[envelope, rec, 1]])
  })

  test('--field takes a dotted path; a line without it holds no record', () => {
    const r = new EnvelopeReader('a.b')
    expect(texts(r, [JSON.stringify({ a: { b: rec } }), JSON.stringify({ a: {} }), JSON.stringify({ message: rec })])).toEqual([
      ['field', rec, 1],
      ['none', 'field', 2],
      ['none', 'field', 3],
    ])
  })

  test('Docker entries over 16 KiB are joined per stream, at the first piece, whatever is interleaved', () => {
    const long = rec.slice(0, 70) + 'x'.repeat(40_000) + rec.slice(70)
    const pieces = [long.slice(0, 16384), long.slice(16384, 32768), long.slice(32768)]
    const r = new EnvelopeReader()
    const lines = [
      JSON.stringify({ log: pieces[0], stream: 'stdout', time: T }),
      JSON.stringify({ log: 'warning\n', stream: 'stderr', time: T }),
      JSON.stringify({ log: pieces[1], stream: 'stdout', time: T }),
      JSON.stringify({ log: pieces[2] + '\n', stream: 'stdout', time: T }),
    ]
    expect(texts(r, lines)).toEqual([
      ['docker', 'warning', 2],
      ['docker', long, 1],
    ])
    expect(r.end()).toEqual([])
  })

  test('CRI P pieces are joined with what follows up to F; a P left at the end is given back as it is', () => {
    const r = new EnvelopeReader()
    expect(texts(r, [`${T} stdout P ${rec.slice(0, 100)}`, `${T} stderr F other`, `${T} stdout F ${rec.slice(100)}`, `${T} stdout P ${rec.slice(0, 50)}`])).toEqual([
      ['cri', 'other', 2],
      ['cri', rec, 1],
    ])
    expect(r.end()).toEqual([{ kind: 'text', text: rec.slice(0, 50), envelope: 'cri', line: 4 }])
  })

  test('lines of no envelope, and JSON that is not an object, hold no record', () => {
    expect(texts(new EnvelopeReader(), ['hello', '[1,2]', '{"not json', ''])).toEqual([
      ['none', null, 1],
      ['none', null, 2],
      ['none', null, 3],
      ['none', null, 4],
    ])
  })
})

describe('shapeOf', () => {
  test('a record, its start alone, its end alone, anything else', () => {
    expect(shapeOf(rec)).toBe('record')
    expect(shapeOf(rec.slice(0, 100))).toBe('cut-start')
    expect(shapeOf(rec.slice(70))).toBe('cut-end')
    expect(shapeOf('hello')).toBe('other')
    expect(shapeOf(GENESIS + '|' + GENESIS)).toBe('cut-start')
  })
})
