/**
 * The frozen format-1 fixtures (docs/FORMAT.md §11): every vector through both
 * hash implementations, the generator reproducing the committed bytes, and the
 * frozen chain verifying with the library and with the Python script.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { verify } from '../src/index'
import { ALGORITHMS, createHashFn, encodeRecord, escapeLine, GENESIS, parseRecord, unescapeLine, type Algorithm, type Implementation } from '../src/format'
import { FIXTURES, ROOT, runPython, tmpDir } from './helpers'

interface Vector {
  name: string
  line: string
  stored: string
  prev: string
  record: string
  hash: string
}
interface Vectors {
  _comment: string
  format: number
  genesis: string
  hmacKey: string
  algorithms: { [alg: string]: Vector[] }
}

const vectors: Vectors = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'vectors.json'), 'utf8'))
const CHAIN_DIR = path.join(FIXTURES, 'chain')
/** The frozen chain's files in index order (app.1 … app.9; names sort numerically here). */
const chainFiles = fs
  .readdirSync(CHAIN_DIR)
  .sort((a, b) => parseInt(a.split('.')[1]!, 10) - parseInt(b.split('.')[1]!, 10))
  .map((n) => path.join(CHAIN_DIR, n))

function hashFn(alg: Algorithm, impl: Implementation) {
  return createHashFn(alg, alg === 'hmac-sha256' ? { key: Buffer.from(vectors.hmacKey), impl } : { impl })
}

describe('vectors.json', () => {
  test('covers format 1, every algorithm, and every rule of FORMAT.md §2–§4', () => {
    expect(vectors.format).toBe(1)
    expect(vectors.genesis).toBe(GENESIS)
    expect(Object.keys(vectors.algorithms).sort()).toEqual([...ALGORITHMS].sort())
    const names = vectors.algorithms.sha256!.map((c) => c.name)
    for (const needed of ['empty line', 'pipes inside the line', 'NUL byte', 'lone high surrogate', 'LF inside', 'CRLF inside', 'imitates a header', 'imitates a record']) {
      expect(names).toContain(needed)
    }
  })

  for (const alg of ALGORITHMS) {
    describe(alg, () => {
      const cases = vectors.algorithms[alg]!
      test.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
        const c = cases[i]!
        // Each algorithm's cases form one chain from GENESIS.
        expect(c.prev).toBe(i === 0 ? GENESIS : cases[i - 1]!.hash)
        expect(escapeLine(c.line)).toBe(c.stored)
        expect(unescapeLine(c.stored)).toBe(c.line)
        for (const impl of ['node', 'noble'] as const) {
          const h = hashFn(alg, impl)
          expect(h(`${c.prev}|${c.stored}`), impl).toBe(c.hash)
          expect(encodeRecord(c.prev, c.stored, h), impl).toEqual({ text: c.record, hash: c.hash })
        }
        expect(c.record.endsWith('\n')).toBe(true)
        expect(c.record.slice(0, -1)).not.toMatch(/[\n\r]/)
        expect(parseRecord(c.record.slice(0, -1))).toEqual({ prev: c.prev, line: c.stored, hash: c.hash })
      })
    })
  }
})

describe('format freeze', () => {
  test('the generator reproduces the committed fixtures byte for byte', async () => {
    const gen = await import(pathToFileURL(path.join(ROOT, 'test/fixtures/generate-vectors.mjs')).href)
    const out = tmpDir()
    await gen.generate(out)
    const list = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? list(path.join(dir, d.name)).map((n) => path.join(d.name, n)) : [d.name])).sort()
    const made = path.join(out, 'format-1')
    expect(list(made)).toEqual(list(FIXTURES))
    for (const rel of list(FIXTURES)) {
      const a = fs.readFileSync(path.join(made, rel))
      const b = fs.readFileSync(path.join(FIXTURES, rel))
      // Compare as text first for a readable diff, then as bytes.
      expect(a.toString('latin1'), rel).toBe(b.toString('latin1'))
      expect(a.equals(b), rel).toBe(true)
    }
  })
})

describe('the frozen chain', () => {
  test('verifies with verify(): files in index order, head and count as written', async () => {
    const lines: string[] = []
    const report = await verify(CHAIN_DIR, { onLine: (l) => lines.push(l) })
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.files).toEqual(chainFiles)
    expect(report.algorithm).toBe('sha256')
    expect(report.chain).toBe('0123456789abcdef0123456789abcdef')
    const total = chainFiles.reduce((n, f) => n + fs.readFileSync(f, 'latin1').split('\n').length - 1, 0)
    const lastFile = fs.readFileSync(chainFiles.at(-1)!, 'latin1').trimEnd().split('\n')
    expect(report.head).toEqual({ hash: lastFile.at(-1)!.slice(-64), count: total })
    expect(report.records).toBe(total)
    expect(report.partial).toBeNull()
    expect(report.recovered).toEqual([])
    // 24 events, then a multi-line line and a line imitating metadata: all data, in order.
    expect(lines).toHaveLength(26)
    expect(lines.slice(0, 24).map((l) => JSON.parse(l).msg)).toEqual(Array.from({ length: 24 }, (_, i) => `event ${i}`))
    expect(lines[24]).toBe('multi-line\nstack trace\r\n  at fixture')
    expect(lines[25]).toBe('\\m{"t":"header"} imitation')
  })

  test('verifies the same given as a list of files in any order, or as the base path', async () => {
    const shuffled = [...chainFiles].reverse()
    const a = await verify(shuffled)
    const b = await verify(path.join(CHAIN_DIR, 'app.log'))
    const c = await verify(CHAIN_DIR)
    for (const r of [a, b]) {
      expect(r.ok).toBe(true)
      expect(r.files).toEqual(chainFiles)
      expect(r.head).toEqual(c.head)
    }
  })

  test('verifies with docs/verify_chain.py given the files in index order', () => {
    const r = runPython(chainFiles)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const lastFile = fs.readFileSync(chainFiles.at(-1)!, 'latin1').trimEnd().split('\n')
    expect(r.stdout.trim()).toBe(`ok ${chainFiles.length} files, head ${lastFile.at(-1)!.slice(-64)}`)
  })

  test('docs/verify_chain.py is the script printed in FORMAT.md §10', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/FORMAT.md'), 'utf8')
    const block = /## 10\.[\s\S]*?```python\n([\s\S]*?)```/.exec(doc)
    expect(block).not.toBeNull()
    expect(block![1]).toBe(fs.readFileSync(path.join(ROOT, 'docs/verify_chain.py'), 'utf8'))
  })
})
