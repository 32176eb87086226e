/**
 * Every snippet in the READMEs runs as written (issue #13): the fenced js and
 * sh blocks of README.md, packages/<name>/README.md, docs/OPERATIONS.md and docs/MIGRATING.md are
 * run, in order, in a project where the packed tarballs are installed
 * (test/helpers/packed.ts). A block that cannot run on its own says why in a
 * `<!-- not-runnable: reason -->` comment on the line before its fence. And no
 * document tells a reader to run a bare `npx verify-log` or `npx chainlog`,
 * which where @chainlog/cli is not installed runs whatever the public registry
 * holds under that name.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { packedProject, ROOT, type PackedProject } from './helpers/packed'

const DOCS = ['README.md', 'packages/core/README.md', 'packages/pino/README.md', 'packages/winston/README.md', 'packages/cli/README.md', 'docs/OPERATIONS.md', 'docs/MIGRATING.md']
const RUNNABLE = new Set(['js', 'javascript', 'ts', 'typescript', 'sh', 'bash', 'shell'])
const NOT_RUNNABLE = /^\s*<!--\s*not-runnable:(.*?)-->\s*$/

interface Snippet {
  doc: string
  /** 1-based line of the opening fence. */
  line: number
  lang: string
  code: string
  /** The reason given by a not-runnable marker, or null. */
  skip: string | null
}

/** The fenced blocks of a Markdown file whose language is one we run. */
export function snippets(doc: string, text: string): Snippet[] {
  const lines = text.split('\n')
  const out: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i])
    if (!open) continue
    const [, indent, lang] = open
    let end = i + 1
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++
    if (end === lines.length) throw new Error(`${doc}:${i + 1}: fence never closed`)
    const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n') + '\n'
    const marker = i > 0 ? NOT_RUNNABLE.exec(lines[i - 1]) : null
    if (RUNNABLE.has(lang)) out.push({ doc, line: i + 1, lang, code, skip: marker ? marker[1].trim() : null })
    i = end
  }
  return out
}

const all = DOCS.flatMap((doc) => snippets(doc, fs.readFileSync(path.join(ROOT, doc), 'utf8')))
const runnable = all.filter((s) => s.skip === null)

let packed: PackedProject

beforeAll(() => {
  packed = packedProject({ name: 'readme-reader' })
}, 300_000)

afterAll(() => packed?.cleanup())

/** Runs one snippet in the directory of its document inside the packed project. */
function run(s: Snippet) {
  const dir = path.join(packed.project, 'snippets', s.doc.replace(/[/.]/g, '_'))
  fs.mkdirSync(dir, { recursive: true })
  if (s.lang === 'sh' || s.lang === 'bash' || s.lang === 'shell') return spawnSync('bash', ['-euo', 'pipefail', '-c', s.code], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  if (s.lang !== 'js' && s.lang !== 'javascript') throw new Error(`${s.doc}:${s.line}: no runner for ${s.lang} snippets; mark it not-runnable with a reason, or add one here`)
  // As a user saves it: import statements make an ES module, anything else is CommonJS.
  const esm = /^(import\s[^(]|export\s)/m.test(s.code)
  const file = path.join(dir, `snippet-${s.line}.${esm ? 'mjs' : 'cjs'}`)
  fs.writeFileSync(file, s.code)
  return spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
}

describe('README snippets, run in a project that installs the packed tarballs', () => {
  test('the documents have snippets, and every not-runnable one says why', () => {
    expect(runnable.length).toBeGreaterThan(10)
    for (const s of all) if (s.skip !== null) expect(s.skip, `${s.doc}:${s.line}`).not.toBe('')
  })

  test.each(runnable.map((s) => [`${s.doc}:${s.line} (${s.lang})`, s] as const))('%s', (_name, s) => {
    const res = run(s)
    expect(res.error, `${s.doc}:${s.line}`).toBeUndefined()
    expect({ status: res.status, signal: res.signal, stderr: res.stderr }).toMatchObject({ status: 0, signal: null })
  })
})

describe('npx always names @chainlog/cli', () => {
  const files = [
    'README.md',
    ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
    ...['core', 'pino', 'winston', 'cli'].map((p) => `packages/${p}/README.md`),
    ...(fs.readdirSync(path.join(ROOT, 'examples'), { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((d) => d.isFile())
      .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)))
      .filter((f) => !f.split(path.sep).some((part) => part.startsWith('.') || part === 'out' || part === 'node_modules') && path.basename(f) !== 'package.json'),
  ]

  /** Each `npx … verify-log|chainlog` that could resolve the bare name on the registry, as file:line. */
  function bare(file: string, text = fs.readFileSync(path.join(ROOT, file), 'utf8')): string[] {
    const found: string[] = []
    // npx, its options, then the command. --no-install never downloads; -p names the package.
    for (const m of text.matchAll(/\bnpx((?:\s+-{1,2}[\w-]+(?:[ =](?!verify-log\b|chainlog\b)[^\s`'"]+)?)*)\s+['"]?(verify-log|chainlog)\b/g)) {
      const options = m[1]
      if (/--no-install|(?:-p|--package)[ =]@chainlog\/cli\b/.test(options)) continue
      // Prose that warns against the bare form ("a bare `npx verify-log`").
      if (/\bbare\s*(?:#\s*)?`$/.test(text.slice(Math.max(0, m.index - 12), m.index))) continue
      found.push(`${file}:${text.slice(0, m.index).split('\n').length}: ${m[0].trim()}`)
    }
    return found
  }

  test('in README.md, docs/*.md, packages/*/README.md and examples/', () => {
    expect(files.length).toBeGreaterThan(10)
    expect(files.flatMap((f) => bare(f))).toEqual([])
  })

  test('the check catches a bare npx', () => {
    const text = 'run `npx verify-log logs/app.log`,\nor npx --yes chainlog head x;\nnpx -p @chainlog/cli verify-log and npx --no-install chainlog are fine; a bare `npx verify-log` is not'
    expect(bare('probe.md', text)).toEqual(['probe.md:1: npx verify-log', 'probe.md:2: npx --yes chainlog'])
  })
})
