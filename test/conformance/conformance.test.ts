// One conformance suite for both transports (issues #3, #4): the format-1
// vectors through the real loggers, tamper checks that must name the exact
// file and line, and the shutdown cases in real child processes.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { createHashFn, type Algorithm } from '@chainlog/core/format'
import { chainFiles, coreVerify, pythonVerify, records, ROOT, runChild, tempDir, userLines, userRecords } from '../helpers/chain'
import { transports } from './transports'

interface Vector { name: string; line: string; stored: string; prev: string; record: string; hash: string }
const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/format-1/vectors.json'), 'utf8')) as {
  hmacKey: string
  algorithms: { [alg: string]: Vector[] }
}

const dirs: string[] = []
const dir = () => {
  const d = tempDir('chainlog-conf-')
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

describe.each(transports)('$name', (t) => {
  describe('format-1 vectors', () => {
    test.each(Object.keys(vectors.algorithms))('%s: each line is stored and hashed as the vectors say', async (alg) => {
      const d = dir()
      let keyFile: string | undefined
      if (alg === 'hmac-sha256') {
        keyFile = path.join(d, 'chain.key')
        fs.writeFileSync(keyFile, vectors.hmacKey)
      }
      const cases = vectors.algorithms[alg]!
      const r = await runChild(t.script, { file: path.join(d, 'app.log'), scenario: 'flush', lines: cases.map((c) => c.line), options: t.algorithm(alg, keyFile) })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const got = userRecords(chainFiles(d)).map((rec) => rec.stored)
      const want = cases.flatMap((c) => t.stored(c.line))
      expect(got).toEqual(want)
      // Where the transport stores the vector's line as is, the vector's stored
      // form and hash apply exactly (hash recomputed from the vector's prev).
      const h = createHashFn(alg as Algorithm, keyFile ? { key: Buffer.from(vectors.hmacKey) } : {})
      let checked = 0
      for (const c of cases) {
        const stored = t.stored(c.line)
        if (stored.length !== 1 || stored[0] !== c.stored) continue
        expect(h(c.prev + '|' + stored[0]), c.name).toBe(c.hash)
        checked++
      }
      expect(checked).toBeGreaterThanOrEqual(cases.length - 6)
      const report = await coreVerify(path.join(d, 'app.log'), keyFile ? { key: Buffer.from(vectors.hmacKey) } : {})
      expect(report.breaks).toEqual([])
      expect(report.ok).toBe(true)
      if (alg === 'sha256') expect(pythonVerify(chainFiles(d)).ok).toBe(true)
    })
  })

  describe('tamper checks name the exact file and line', () => {
    let base: string
    let files: string[]
    const fresh = async () => {
      const d = dir()
      base = path.join(d, 'app.log')
      const r = await runChild(t.script, { file: base, scenario: 'flush', count: 120, options: t.smallFiles })
      expect(r.code).toBe(0)
      files = chainFiles(d)
      expect(files.length).toBeGreaterThanOrEqual(3)
      expect((await coreVerify(base)).ok).toBe(true)
      expect(pythonVerify(files).ok).toBe(true)
      return files[1]! // a middle file
    }
    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n')

    test('an edited line', async () => {
      const target = await fresh()
      const l = lines(target)
      l[4] = l[4]!.replace('"i":', '"i": ') // line 5: a user record, one byte added
      fs.writeFileSync(target, l.join('\n'))
      const report = await coreVerify(base)
      expect(report.ok).toBe(false)
      expect(report.breaks[0]).toMatchObject({ file: target, line: 5 })
      const py = pythonVerify(files)
      expect(py.ok).toBe(false)
      expect(py.output).toBe(`${target}:5: broken`)
    })

    test('a deleted line', async () => {
      const target = await fresh()
      const l = lines(target)
      l.splice(6, 1) // line 7 goes; the record now on line 7 no longer links
      fs.writeFileSync(target, l.join('\n'))
      const report = await coreVerify(base)
      expect(report.ok).toBe(false)
      expect(report.breaks[0]).toMatchObject({ file: target, line: 7 })
      expect(pythonVerify(files).output).toBe(`${target}:7: broken`)
    })
  })

  describe('nothing lost at shutdown', () => {
    test.each(t.shutdown)('$name', async (c) => {
      const d = dir()
      const r = await runChild(t.script, { file: path.join(d, 'app.log'), scenario: c.scenario, count: c.count }, c.signal ? { signal: c.signal } : {})
      expect(r.stdout).not.toContain('transport-error')
      expect(r.code).toBe(c.exitCode)
      const files = chainFiles(d)
      const indexes = userLines(files).flatMap((line) => {
        const obj = JSON.parse(line) as { i?: number }
        return obj.i === undefined ? [] : [obj.i]
      })
      expect(indexes.length).toBe(c.count)
      expect(indexes).toEqual(Array.from({ length: c.count }, (_, i) => i))
      if (c.scenario === 'uncaught' && t.name.includes('winston')) {
        // handleExceptions: winston's exception entry is in the file before it exits.
        expect(userLines(files).some((l) => l.includes('uncaught in the application'))).toBe(true)
      }
      expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
      expect(pythonVerify(files).ok).toBe(true)
      expect(records(files)[0]!.stored.startsWith('\\m{"t":"header"')).toBe(true)
    })
  })
})
