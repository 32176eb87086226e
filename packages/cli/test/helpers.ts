/**
 * Helpers of the CLI tests: run the built executables as child processes,
 * write real chains with the core writer, and tamper with them the way an
 * attacker would (editing, deleting, inserting, re-hashing lines).
 */
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { onTestFinished } from 'vitest'
import { createChainWriter, type ChainWriterOptions } from '@chainlog/core'

export const CLI = path.resolve(__dirname, '..')
export const ROOT = path.resolve(CLI, '../..')
export const VERIFY_LOG = path.join(CLI, 'bin/verify-log.js')
export const CHAINLOG = path.join(CLI, 'bin/chainlog.js')

export interface Result {
  status: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  input?: string | Buffer
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Run as this uid/gid (via setpriv), e.g. 65534 (nobody). */
  user?: number
  /** Options for node itself, e.g. ['--require', 'fault.js']. */
  nodeArgs?: string[]
}

/** Runs a built executable with node and waits for it. */
export function run(bin: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const argv = [...(options.nodeArgs ?? []), bin, ...args]
  const [cmd, cmdArgs] = options.user === undefined ? [process.execPath, argv] : ['setpriv', [`--reuid=${options.user}`, `--regid=${options.user}`, '--clear-groups', process.execPath, ...argv]]
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }))
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
  })
}

export const verifyLog = (args: string[], options?: RunOptions) => run(VERIFY_LOG, args, options)
export const chainlog = (args: string[], options?: RunOptions) => run(CHAINLOG, args, options)

/** Runs a shell pipeline (for `| jq`, `| pino-pretty`, `| head`). */
export function sh(script: string, cwd = ROOT): Result {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A fresh directory (readable by other users, for the permission test), removed when the test ends. */
export function tmpDir(prefix = 'chainlog-cli-'): string {
  const dir = suiteDir(prefix)
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh directory for a whole suite (beforeAll); remove it in afterAll. */
export function suiteDir(prefix = 'chainlog-cli-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.chmodSync(dir, 0o755)
  return dir
}

/** A pino-like line: `{"level":30,"time":…,"msg":…}`. */
export function pinoLine(i: number, t0 = Date.UTC(2026, 10, 22, 10, 0, 0)): string {
  return JSON.stringify({ level: 30, time: t0 + i * 1000, pid: 4242, hostname: 'web-1', reqId: i, msg: `request ${i} served` })
}

/**
 * Writes `lines` through the real core writer on `dir/app.log`, closes it,
 * and returns the files in chain order (by number).
 */
export async function writeChain(dir: string, lines: string[], options: Partial<ChainWriterOptions> = {}): Promise<string[]> {
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), ...options })
  for (const l of lines) {
    if (!w.write(l)) await new Promise<void>((resolve) => w.once('drain', () => resolve()))
  }
  await w.close()
  return logFiles(dir)
}

/** The `app.N.log[.gz]` files of `dir`, by number. */
export function logFiles(dir: string): string[] {
  const re = /^app\.(?:.+\.)?(\d+)\.log(?:\.gz)?$/
  return fs
    .readdirSync(dir)
    .filter((n) => re.test(n))
    .sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1]))
    .map((n) => path.join(dir, n))
}

// ---- reading and tampering -------------------------------------------------

const read = (file: string): Buffer => (file.endsWith('.gz') ? gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file))
const write = (file: string, data: Buffer): void => fs.writeFileSync(file, file.endsWith('.gz') ? gzipSync(data) : data)

/** Physical lines of a file (decompressed for .gz), without their LF; a trailing fragment is included. */
export function linesOf(file: string): Buffer[] {
  const data = read(file)
  const out: Buffer[] = []
  let start = 0
  for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
    out.push(data.subarray(start, nl))
    start = nl + 1
  }
  if (start < data.length) out.push(data.subarray(start))
  return out
}

function writeLines(file: string, lines: Buffer[]): void {
  write(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])))
}

/** Byte offset of (1-based) line `n` in the (decompressed) file. */
export function offsetOf(file: string, n: number): number {
  return linesOf(file)
    .slice(0, n - 1)
    .reduce((o, l) => o + l.length + 1, 0)
}

export function hashOf(line: Buffer | string): string {
  const s = line.toString()
  return s.slice(-64)
}

export function prevOf(line: Buffer | string): string {
  return line.toString().slice(0, 64)
}

/** Number of physical lines of a file. */
export function lineCount(file: string): number {
  return linesOf(file).length
}

/** What an attacker without the chain's cooperation can do: a valid record after `prev`. */
export function forge(prev: string, stored: string): Buffer {
  const body = `${prev}|${stored}`
  return Buffer.from(`${body}|${crypto.createHash('sha256').update(body).digest('hex')}`)
}

/** Changes the stored line of record `n`, leaving its hash: HASH_MISMATCH at n. */
export function editLine(file: string, n: number, edit: (stored: string) => string): void {
  const lines = linesOf(file)
  const s = lines[n - 1]!.toString()
  lines[n - 1] = Buffer.from(`${s.slice(0, 65)}${edit(s.slice(65, -65))}${s.slice(-65)}`)
  writeLines(file, lines)
}

/** Changes record `n` and recomputes its hash (but not the records after it): PREV_MISMATCH at n + 1. */
export function editAndRehash(file: string, n: number, edit: (stored: string) => string): void {
  const lines = linesOf(file)
  const s = lines[n - 1]!.toString()
  lines[n - 1] = forge(s.slice(0, 64), edit(s.slice(65, -65)))
  writeLines(file, lines)
}

/** Deletes line `n`: PREV_MISMATCH at n (the line that moved up). */
export function deleteLine(file: string, n: number): void {
  const lines = linesOf(file)
  lines.splice(n - 1, 1)
  writeLines(file, lines)
}

/** Inserts a forged record linked to line n - 1 as the new line `n`: PREV_MISMATCH at n + 1. */
export function insertForged(file: string, n: number, stored: string): void {
  const lines = linesOf(file)
  lines.splice(n - 1, 0, forge(hashOf(lines[n - 2]!), stored))
  writeLines(file, lines)
}

/** Swaps lines a and b (a < b): the first break is at a. */
export function swapLines(file: string, a: number, b: number): void {
  const lines = linesOf(file)
  ;[lines[a - 1], lines[b - 1]] = [lines[b - 1]!, lines[a - 1]!]
  writeLines(file, lines)
}

/** Keeps the first `n` lines of a file. */
export function keepLines(file: string, n: number): void {
  writeLines(file, linesOf(file).slice(0, n))
}

/** Cuts a plain file at a byte offset. */
export function truncateAt(file: string, size: number): void {
  fs.truncateSync(file, size)
}

/** The parsed JSON of a CLI's stdout. */
export function json<T = Record<string, unknown>>(r: Result): T {
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (status ${r.status}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}

/** stderr is one line (plus its newline) and holds no stack trace. */
export function oneLineError(r: Result): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '')
  if (lines.length !== 1 || /^\s+at /m.test(r.stderr)) throw new Error(`expected one line on stderr, got:\n${r.stderr}`)
  return lines[0]!
}
