/**
 * Shared helpers of the @chainlog/core tests: per-test temp dirs, reading and
 * re-chaining records, fault-injected `fs` calls shaped like the kernel's
 * errors, and the independent Python verifier of docs/FORMAT.md §10.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { onTestFinished, vi } from 'vitest'
import { createChainWriter, type ChainWriter, type ChainWriterOptions } from '../src/index'
import { createHashFn, encodeRecord, escapeLine, type Algorithm, type HashFn } from '../src/format'

/** The repository root (tests may run with another cwd: `npm test` in packages/core). */
export const ROOT = path.resolve(__dirname, '../../..')
export const FIXTURES = path.join(ROOT, 'test/fixtures/format-1')
export const PY_VERIFIER = path.join(ROOT, 'docs/verify_chain.py')

/** A fresh directory under os.tmpdir(), removed when the current test ends. */
export function tmpDir(prefix = 'chainlog-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Opens a writer and closes it when the test ends (if the test did not). */
export async function openWriter(options: ChainWriterOptions): Promise<ChainWriter> {
  const w = await createChainWriter(options)
  onTestFinished(async () => {
    if (!w.isClosed) await w.close().catch(() => undefined)
  })
  return w
}

/** Writes `lines` through a fresh writer on `dir/app.log`, closes it, and returns the files in chain order. */
export async function writeLog(dir: string, lines: string[], options: Partial<ChainWriterOptions> = {}): Promise<string[]> {
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), ...options })
  for (const l of lines) w.write(l)
  await w.close()
  return logFiles(dir)
}

/** The `app.N…log[.gz]` files in `dir`, by number. */
export function logFiles(dir: string, stem = 'app'): string[] {
  const re = new RegExp(`^${stem}\\.(?:.+\\.)?(\\d+)\\.log(?:\\.gz)?$`)
  return fs
    .readdirSync(dir)
    .filter((n) => re.test(n) && fs.lstatSync(path.join(dir, n)).isFile())
    .sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1]))
    .map((n) => path.join(dir, n))
}

/** Physical lines of a plain file, without their LF. A trailing fragment (no LF) is not included. */
export function physicalLines(file: string): Buffer[] {
  const data = fs.readFileSync(file)
  const out: Buffer[] = []
  let start = 0
  for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
    out.push(data.subarray(start, nl))
    start = nl + 1
  }
  return out
}

/** The parsed metadata JSON of a physical line whose stored line is `\m…`, else null. */
export function metaOf(line: Buffer | string): { t: string; [k: string]: any } | null {
  const s = line.toString()
  const stored = s.slice(65, s.length - 65)
  return stored.startsWith('\\m') ? JSON.parse(stored.slice(2)) : null
}

/** The hash field of a physical line. */
export const hashOf = (line: Buffer | string): string => line.toString('latin1').slice(-64)
/** The prev field of a physical line. */
export const prevOf = (line: Buffer | string): string => line.toString('latin1').slice(0, 64)

/** Builds the physical line (with LF) an attacker who knows the algorithm would forge. */
export function forge(prev: string, userLine: string, alg: Algorithm = 'sha256', key?: Uint8Array): { text: string; hash: string } {
  const hashFn: HashFn = createHashFn(alg, key ? { key } : {})
  return encodeRecord(prev, escapeLine(userLine), hashFn)
}

/** Rewrites a file from physical lines (each gets its LF back). */
export function writeLines(file: string, lines: (Buffer | string)[]): void {
  fs.writeFileSync(file, Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l as string), Buffer.from('\n')]))))
}

/** Runs docs/verify_chain.py on files given in chain order. */
export function runPython(files: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('python3', [PY_VERIFIER, ...files], { encoding: 'utf8' })
  if (r.error) throw r.error
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * An error shaped exactly like the one Node raises for a failed syscall:
 * message `CODE: description, syscall 'path'`, negative `errno`, `code`, `syscall`, `path`.
 */
export function sysError(code: 'EACCES' | 'EPERM' | 'ENOSPC' | 'EISDIR' | 'EIO' | 'EDQUOT', syscall: string, file?: string): NodeJS.ErrnoException {
  const errno = os.constants.errno[code]
  const text: { [c: string]: string } = { EACCES: 'permission denied', EPERM: 'operation not permitted', ENOSPC: 'no space left on device', EISDIR: 'illegal operation on a directory', EIO: 'i/o error', EDQUOT: 'disk quota exceeded' }
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text[code]}, ${syscall}${file === undefined ? '' : ` '${file}'`}`)
  err.errno = -errno
  err.code = code
  err.syscall = syscall
  if (file !== undefined) err.path = file
  return err
}

/**
 * Replaces a method of the `fs` module until the returned function is called, or the test ends. Both views
 * are patched: CommonJS callers (sonic-boom) see the module object, and the
 * ESM namespace the sources import is re-synced from it.
 */
export function patchFs<K extends keyof typeof fs>(name: K, impl: (typeof fs)[K]): () => void {
  const spy = vi.spyOn(fs as any, name as string).mockImplementation(impl as any)
  syncBuiltinESMExports()
  const restore = () => {
    spy.mockRestore()
    syncBuiltinESMExports()
  }
  onTestFinished(restore)
  return restore
}

/** The path behind a file descriptor (Linux /proc). */
export function fdPath(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return null
  }
}

/**
 * A disk that holds `free` more bytes for files under `dir`, with the kernel's
 * semantics: a write larger than the space left writes what fits and returns
 * the short count; a write when nothing fits fails with ENOSPC. Both the
 * synchronous and the callback `write` are covered. Set `free` again to make
 * space "return".
 */
export function fakeDisk(dir: string, free: number): { free: number; failures: number; shortWrites: number } {
  const disk = { free, failures: 0, shortWrites: 0 }
  const realWrite = fs.write
  const realWriteSync = fs.writeSync
  const realDir = fs.realpathSync(dir)
  const ours = (fd: number) => (fdPath(fd) ?? '').startsWith(realDir + path.sep)
  /** The bytes a write(2) call was asked to write, from Node's overloads. */
  const bytesOf = (data: unknown, rest: unknown[]): Buffer => {
    if (typeof data === 'string') return Buffer.from(data, (rest.find((a) => typeof a === 'string') as BufferEncoding | undefined) ?? 'utf8')
    const view = data as ArrayBufferView
    const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength)
    const offset = typeof rest[0] === 'number' ? rest[0] : 0
    const length = typeof rest[1] === 'number' ? rest[1] : buf.length - offset
    return buf.subarray(offset, offset + length)
  }
  /** Writes what fits (append mode: the position is the end); throws ENOSPC when nothing fits. */
  const put = (fd: number, buf: Buffer): number => {
    if (buf.length === 0) return 0
    if (disk.free <= 0) {
      disk.failures++
      throw sysError('ENOSPC', 'write')
    }
    const n = realWriteSync(fd, buf, 0, Math.min(buf.length, disk.free))
    disk.free -= n
    if (n < buf.length) disk.shortWrites++
    return n
  }
  patchFs('writeSync', function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
    if (!ours(fd)) return (realWriteSync as (...a: unknown[]) => number).call(this, fd, data, ...rest)
    return put(fd, bytesOf(data, rest))
  } as typeof fs.writeSync)
  patchFs('write', function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
    if (!ours(fd)) return (realWrite as (...a: unknown[]) => void).call(this, fd, data, ...rest)
    const cb = rest.pop() as (err: NodeJS.ErrnoException | null, n?: number, b?: unknown) => void
    try {
      const n = put(fd, bytesOf(data, rest))
      process.nextTick(cb, null, n, data)
    } catch (err) {
      process.nextTick(cb, err)
    }
  } as typeof fs.write)
  return disk
}

/** A small deterministic PRNG (mulberry32), so that randomized tests reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Waits until `cond()` holds, polling; for state reached through timers the test does not own. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
