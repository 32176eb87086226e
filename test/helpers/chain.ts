// Reading chains back in tests: files in chain order, records, user lines,
// and the two verifiers (core's and the independent Python script).
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { onTestFinished } from 'vitest'
import { verify, type VerifyOptions, type VerifyReport } from '@chainlog/core'
import { lineKind, parseRecord, unescapeLine } from '@chainlog/core/format'

import { ROOT } from './root'

export { ROOT }
export const PY_VERIFIER = path.join(ROOT, 'docs/verify_chain.py')

/** A fresh directory under os.tmpdir(), removed when the current test ends. */
export function testDir(prefix = 'chainlog-test-'): string {
  const dir = tempDir(prefix)
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh directory under os.tmpdir(); removed by cleanup(). */
export function tempDir(prefix = 'chainlog-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** The log files of base `stem` in `dir`, in file-number order (gzip excluded). */
export function chainFiles(dir: string, stem = 'app', ext = '.log'): string[] {
  const re = new RegExp(`^${stem}\\.(?:.+\\.)?(\\d+)${ext.replace('.', '\\.')}$`)
  return fs.readdirSync(dir)
    .map((name) => ({ name, m: re.exec(name) }))
    .filter((e) => e.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((e) => path.join(dir, e.name))
}

export interface StoredRecord {
  file: string
  /** 1-based physical line number in its file. */
  line: number
  prev: string
  stored: string
  hash: string
}

/** Every record of the files, in order. Throws on a line that is not a record. */
export function records(files: string[]): StoredRecord[] {
  const out: StoredRecord[] = []
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8')
    if (text !== '' && !text.endsWith('\n')) throw new Error(`${file} ends with a partial line`)
    const lines = text.split('\n').slice(0, -1)
    lines.forEach((physical, i) => {
      const r = parseRecord(physical)
      if (!r) throw new Error(`${file}:${i + 1} is not a record`)
      out.push({ file, line: i + 1, prev: r.prev, stored: r.line, hash: r.hash })
    })
  }
  return out
}

/** The user records (not metadata), stored form. */
export function userRecords(files: string[]): StoredRecord[] {
  return records(files).filter((r) => lineKind(r.stored) !== 'meta')
}

/** The logger's lines, unescaped, in chain order. */
export function userLines(files: string[]): string[] {
  return userRecords(files).map((r) => unescapeLine(r.stored))
}

/** The independent ten-line verifier from FORMAT.md §10 (plain sha256 chains from file 0). */
export function pythonVerify(files: string[]): { ok: boolean; output: string } {
  const r = spawnSync('python3', [PY_VERIFIER, ...files], { encoding: 'utf8' })
  return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() }
}

/** Core verifier over the rotation base, e.g. `dir/app.log`. */
export async function coreVerify(base: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return verify(base, options)
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs a helper script with `CHAINLOG_CHILD` = JSON config. With `signal`,
 * sends it once the child prints `ready`.
 */
export function runChild(script: string, config: object, options: { signal?: NodeJS.Signals; uid?: number; gid?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'test/helpers', script)], {
      env: { ...process.env, CHAINLOG_CHILD: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined && { uid: options.uid, gid: options.gid ?? options.uid }),
    })
    let stdout = ''
    let stderr = ''
    let signalled = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (options.signal && !signalled && stdout.includes('ready\n')) {
        signalled = true
        child.kill(options.signal)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}
