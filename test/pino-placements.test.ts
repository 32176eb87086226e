// @chainlog/pino in each place a pino user puts a transport (#18), through
// real pino and its worker thread: a `target`, one of several `targets` with
// levels, and the last stage of a `pipeline`. The format-1 vectors and lines
// made to probe pino's own multi-target worker go through each; the chain is
// checked by core's verifier and by the Python script of FORMAT.md §10.
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import pino from 'pino'
import { escapeLine } from '@chainlog/core/format'
import { chainFiles, coreVerify, pythonVerify, ROOT, testDir, userRecords } from './helpers/chain'

const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/format-1/vectors.json'), 'utf8')) as { algorithms: { sha256: { line: string }[] } }

/** What pino's multi-target worker does to a line (packages/pino/README.md, "Several targets"). */
function throughTargets(line: string, targetLevel: number): string[] {
  // It cuts at /\r?\n/, so a CR before the LF goes; it keeps only lines that
  // JSON.parse to something with a level at or above the target's.
  const cut = line.endsWith('\r') ? line.slice(0, -1) : line
  let value: unknown
  try {
    value = JSON.parse(cut)
  } catch {
    return []
  }
  const level = (value as { level?: unknown } | null)?.level
  const n = typeof level === 'string' ? pino.levels.values[level] : level
  return typeof n === 'number' && n >= targetLevel ? [cut] : []
}

interface Placement {
  name: string
  transport(options: object, dir: string): Parameters<typeof pino.transport>[0]
  /** The lines that reach the chain for one line of pino's output (after thread-stream's UTF-8). */
  reaches(line: string): string[]
}

const placements: Placement[] = [
  { name: 'a target', transport: (options) => ({ target: '@chainlog/pino', options }), reaches: (line) => [line] },
  {
    name: 'the last stage of a pipeline',
    transport: (options) => ({ pipeline: [{ target: path.join(ROOT, 'test/helpers/pipeline-passthrough.cjs') }, { target: '@chainlog/pino', options }] }),
    reaches: (line) => [line],
  },
  {
    name: 'one of several targets, at level info',
    transport: (options, dir) => ({
      targets: [
        { target: '@chainlog/pino', level: 'info', options },
        { target: 'pino/file', level: 'warn', options: { destination: path.join(dir, 'plain.log') } },
      ],
    }),
    reaches: (line) => throughTargets(line, 30),
  },
]

/** Lines that tell apart what pino's multi-target worker keeps. */
const probes = [
  '{"level":30,"msg":"ends with a CR"}\r',
  '{"level":20,"msg":"debug, below the target\'s level"}',
  '{"level":"warn","msg":"a level by name"}',
  '{"msg":"no level"}',
  '  {"level":30,"msg":"spaces around"}  ',
  'null',
  '42',
  '{"level":30,"msg":"a lone surrogate \ud800 in JSON"}',
]
/** Written last, without LF: the transport ends with it. */
const TAIL = '{"level":30,"msg":"the last line, without LF"}'

describe.each(placements)('as $name', (p) => {
  test('the format-1 vectors and the probe lines reach the chain byte for byte, as documented', async () => {
    const d = testDir('chainlog-place-')
    const t = pino.transport(p.transport({ file: path.join(d, 'app.log') }, d))
    const heads: { hash: string; count: number }[] = []
    t.on('chainlog:head', (h: { hash: string; count: number }) => heads.push(h))
    await once(t, 'ready')
    const written = [...vectors.algorithms.sha256.map((v) => v.line + '\n'), ...probes.map((l) => l + '\n'), TAIL]
    let n = 0
    const logger = pino({ hooks: { streamWrite: () => written[n++]! } }, t)
    for (let i = 0; i < written.length; i++) logger.info('replaced by streamWrite')
    const closed = once(t, 'close')
    t.end()
    await closed

    // pino's output is a byte stream of LF-ended lines; thread-stream encodes it as UTF-8.
    const lines = written.join('').split('\n').map((l) => l.toWellFormed())
    const want = lines.flatMap((l) => p.reaches(l)).map(escapeLine)
    const files = chainFiles(d)
    expect(userRecords(files).map((r) => r.stored)).toEqual(want)
    expect(want.at(-1)).toBe(TAIL)
    const report = await coreVerify(path.join(d, 'app.log'))
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    expect(pythonVerify(files).ok).toBe(true)
    // The head reported at close crossed to this thread, and is the chain's.
    expect(heads.at(-1)).toMatchObject({ hash: report.head!.hash, count: report.head!.count })
  })

  test('a burst ended at once: every line is in the chain when the transport closes, and the head at close is the chain\'s', async () => {
    const d = testDir('chainlog-place-')
    const t = pino.transport(p.transport({ file: path.join(d, 'app.log'), size: '256k' }, d))
    const heads: { hash: string; count: number }[] = []
    t.on('chainlog:head', (h: { hash: string; count: number }) => heads.push(h))
    await once(t, 'ready')
    const logger = pino(t)
    for (let i = 0; i < 20_000; i++) logger.info({ i }, 'burst')
    const closed = once(t, 'close')
    t.end()
    await closed
    const files = chainFiles(d)
    expect(files.length).toBeGreaterThan(2)
    expect(userRecords(files).map((r) => (JSON.parse(r.stored) as { i: number }).i)).toEqual(Array.from({ length: 20_000 }, (_, i) => i))
    const report = await coreVerify(path.join(d, 'app.log'))
    expect(report.ok).toBe(true)
    expect(heads.at(-1)).toMatchObject({ hash: report.head!.hash, count: report.head!.count })
    expect(pythonVerify(files).ok).toBe(true)
  })
})

test('several targets: exactly the lines the README says are dropped are dropped', () => {
  const kept = (l: string) => throughTargets(l.toWellFormed(), 30)
  expect(probes.map(kept)).toEqual([
    ['{"level":30,"msg":"ends with a CR"}'],
    [],
    ['{"level":"warn","msg":"a level by name"}'],
    [],
    ['  {"level":30,"msg":"spaces around"}  '],
    [],
    [],
    ['{"level":30,"msg":"a lone surrogate \ufffd in JSON"}'],
  ])
  // Of the vectors, only the two JSON lines with a level pass.
  expect(vectors.algorithms.sha256.flatMap((v) => v.line.split('\n')).flatMap(kept)).toHaveLength(2)
})
