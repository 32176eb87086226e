/**
 * Fuzzing the record parser and the verifier with fast-check (issue #5): any
 * bytes are either a record or not, never a crash; the verifier's report does
 * not depend on how the input is cut into chunks; and the built verify-log
 * answers garbage with exit 1 or 2 and one line, never a stack trace.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { VerifyReport } from '@chainlog/core'
import { ChainVerifier, createHashFn, encodeRecord, escapeLine, GENESIS, isHash, metaLine, parseRecord, unescapeLine } from '@chainlog/core/format'
import { tmpDir, verifyLog } from './helpers'

const sha = createHashFn('sha256')
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const header = (index = 0) => metaLine({ t: 'header', v: 1, alg: 'sha256', chain: 'a'.repeat(32), index, file: 'app.1.log', prevFile: null, prevHash: GENESIS, seq: 0, time: '2026-11-22T10:00:00.000Z' })

/** A valid chain's lines (with LF) for the stored lines given, starting with a header. */
function chainOf(stored: string[]): Buffer[] {
  let prev = GENESIS
  return [header(), ...stored].map((s) => {
    const { text, hash } = encodeRecord(prev, s, sha)
    prev = hash
    return Buffer.from(text)
  })
}

function verifyChunks(data: Buffer, cuts: number[], all: boolean): VerifyReport {
  const v = new ChainVerifier({ all })
  v.beginFile('f')
  let at = 0
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(c, data.length)
    if (to > at) v.feed(data.subarray(at, to))
    at = Math.max(at, to)
  }
  if (at < data.length) v.feed(data.subarray(at))
  v.endFile(true)
  return v.finish()
}

describe('the record parser', () => {
  test('any string: a record with hex fields that rebuild the line exactly, or null; never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.tuple(hex64, fc.string({ unit: 'binary' }), fc.string({ maxLength: 66 })).map(([p, l, h]) => `${p}|${l}|${h}`)), (s) => {
        const r = parseRecord(s)
        if (r === null) return
        expect(isHash(r.prev) && isHash(r.hash)).toBe(true)
        expect(`${r.prev}|${r.line}|${r.hash}`).toBe(s)
      }),
      { numRuns: 3000, seed: 5 },
    )
  })

  test('any user line survives escaping, storing and parsing unchanged, as one physical line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), hex64, (line, prev) => {
        const stored = escapeLine(line)
        expect(stored).not.toMatch(/[\n\r]/)
        expect(stored.startsWith('\\m')).toBe(false)
        const { text, hash } = encodeRecord(prev, stored, sha)
        const r = parseRecord(text.slice(0, -1))!
        expect(r).toEqual({ prev, line: stored, hash })
        expect(unescapeLine(r.line)).toBe(line)
      }),
      { numRuns: 3000, seed: 6 },
    )
  })
})

describe('the verifier on arbitrary bytes', () => {
  test('a chain with arbitrary bytes spliced in: never a throw, and the same report however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 80 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 300 })), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (lines, splices, cuts, all) => {
          let data = Buffer.concat(chainOf(lines.map(escapeLine)))
          for (const [at, bytes] of splices) {
            const i = at % (data.length + 1)
            data = Buffer.concat([data.subarray(0, i), bytes, data.subarray(i)])
          }
          const whole = verifyChunks(data, [], all)
          const chunked = verifyChunks(data, cuts.map((c) => c % (data.length + 1)), all)
          expect(chunked).toEqual(whole)
          const starts = [0]
          for (let i = 0; i < data.length; i++) if (data[i] === 0x0a && i + 1 < data.length) starts.push(i + 1)
          for (const b of whole.breaks) {
            expect(b.line).toBeGreaterThanOrEqual(1)
            expect(starts[b.line - 1]).toBe(b.offset)
          }
          if (splices.length === 0) expect(whole.ok).toBe(true)
        },
      ),
      { numRuns: 1500, seed: 7 },
    )
  })
})

describe('verify-log on fuzzed files', () => {
  test('garbage and damaged chains: exit 1 or 2, one line or a report, never a stack trace', async () => {
    const dir = tmpDir()
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), fc.nat(), async (bytes, withHeader, at) => {
        const file = path.join(dir, `f-${crypto.randomBytes(4).toString('hex')}.log`)
        const base = withHeader ? Buffer.concat(chainOf(['{"msg":"a"}', '{"msg":"b"}'])) : Buffer.alloc(0)
        const i = at % (base.length + 1)
        fs.writeFileSync(file, Buffer.concat([base.subarray(0, i), bytes, base.subarray(i)]))
        const r = await verifyLog(['--json', file])
        expect(r.stderr).not.toMatch(/^\s+at /m)
        const j = JSON.parse(r.stdout) as { ok: boolean; status: string }
        if (r.status === 0) expect(j.ok).toBe(true)
        else if (r.status === 1) expect(j.status).toMatch(/^(BROKEN|TRUNCATED)$/)
        else {
          expect(r.status).toBe(2)
          expect(j.status).toBe('ERROR')
          expect(r.stderr.trim().split('\n')).toHaveLength(1)
          expect(r.stderr).toContain(file)
        }
      }),
      { numRuns: 12, seed: 8 },
    )
  })
})
