// The writer's queue (queue.ts): a block's UTF-8 is made once, when it reaches the front, and its size in bytes
// learnt then; until then the queue counts it in UTF-16 units. Whatever the text, a block encodes to exactly the
// records one stored line per line would (FORMAT.md §2), and what the queue says it holds goes back to 0.
import { describe, expect, test } from 'vitest'
import { createHashFn, escapeLine, GENESIS } from '../src/format'
import { isPlainText } from '../src/record'
import { RecordQueue } from '../src/queue'

const fn = createHashFn('sha256')

/** The records of `lines`, one stored line each: what a block of them must encode to. */
function perLine(lines: string[]): string {
  const q = new RecordQueue()
  for (const line of lines) q.push(escapeLine(line))
  return q.encode(GENESIS, fn, Infinity, Infinity, true).bytes.toString('utf8')
}

/**
 * Encodes the whole queue in batches of at most `limit` bytes; after each, the queue must hold `held(records so
 * far)` bytes when given, and in any case less than before from the second batch on, and nothing at the end.
 */
function drain(q: RecordQueue, limit: number, held?: (records: number) => number): string {
  let prev = GENESIS
  let out = ''
  let records = 0
  for (let step = 0; q.length > 0; step++) {
    const before = q.bytes
    const b = q.encode(prev, fn, limit, Infinity, true)
    expect(b.records).toBeGreaterThan(0)
    out += b.bytes.toString('utf8')
    q.commit(b)
    records += b.records
    if (held) expect(q.bytes).toBe(held(records))
    if (step > 0) expect(q.bytes).toBeLessThan(before)
    prev = b.prev
  }
  expect(q.bytes).toBe(0)
  return out
}

describe('RecordQueue: blocks of any text', () => {
  const texts: Record<string, string[]> = {
    'ASCII': Array.from({ length: 300 }, (_, i) => `{"level":30,"i":${i},"msg":"request completed"}`),
    // Two bytes a unit on a few lines: within the room the first UTF-8 write leaves.
    'some two-byte characters': Array.from({ length: 300 }, (_, i) => `{"i":${i},"msg":"${i % 50 === 0 ? 'é' : 'e'}"}`),
    // Three bytes a unit throughout: the first write is cut short, and the text is counted and written again.
    'three-byte characters throughout': Array.from({ length: 300 }, (_, i) => `{"i":${i},"msg":"${'€'.repeat(40)}"}`),
    // Four bytes per two units (surrogate pairs), a cut falling inside one.
    'astral characters': Array.from({ length: 300 }, (_, i) => `{"i":${i},"msg":"${'😀'.repeat(25)}"}`),
  }
  for (const [name, lines] of Object.entries(texts)) {
    test(`${name}: the same records as one stored line per line, in one batch and in small ones`, () => {
      const text = lines.join('\n') + '\n'
      expect(isPlainText(text)).toBe(true)
      const expected = perLine(lines)
      for (const limit of [Infinity, 1000]) {
        const q = new RecordQueue()
        q.pushLines(text)
        // Counted in UTF-16 units until its UTF-8 is made; from then on, the UTF-8 bytes of the lines left.
        expect(q.bytes).toBe(text.length)
        const left = (records: number): number => lines.slice(records).reduce((n, line) => n + Buffer.byteLength(line) + 1, 0)
        expect(drain(q, limit, left)).toBe(expected)
      }
    })
  }

  test('a block whose UTF-8 outgrows the scratch buffer a larger ASCII block left', () => {
    const ascii = ['a'.repeat(5000)]
    const euro = ['€'.repeat(3000)]
    const q = new RecordQueue()
    q.pushLines(ascii.join('\n') + '\n')
    q.pushLines(euro.join('\n') + '\n')
    // Fewer UTF-16 units than the scratch holds, three times as many bytes.
    expect(drain(q, 100)).toBe(perLine([...ascii, ...euro]))
  })

  test('a backslash inside a line keeps the run one block; one that starts a line, a CR or a lone surrogate does not', () => {
    const plain = ['{"msg":"a \\"quoted\\" word"}', '{"path":"C:\\\\temp"}']
    expect(isPlainText(plain.join('\n') + '\n')).toBe(true)
    for (const odd of ['\\starts with a backslash', 'a CR\r', 'a lone \ud800 surrogate']) {
      const lines = [...plain, odd, ...plain]
      const text = lines.join('\n') + '\n'
      expect(isPlainText(text)).toBe(false)
      const q = new RecordQueue()
      q.pushLines(text)
      // Escaped line by line: the odd line is stored escaped, the rest verbatim.
      expect(drain(q, Infinity)).toBe(perLine(lines))
    }
  })
})
