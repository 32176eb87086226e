/**
 * A chain on standard output (#15 part 1), as a container runs it: a real
 * child process whose stdout is a pipe(2) with a slow reader at the other
 * end (a shell pipeline, as `docker run` gives a FIFO), through pino's worker
 * transport, pino in the main thread and winston. It ends normally, on
 * SIGTERM, and with kill -9; several processes share one pipe. What the
 * reader captured is verified with the built verify-log, from a file and
 * from stdin.
 *
 * Several writers on one pipe give several chains, interleaved. The test
 * separates them the way the format allows (each record names its
 * predecessor's hash, each chain starts at a header naming its chain id) and
 * verifies each chain's lines on its own, and `verify-log --shipped` must
 * find the same chains in the capture as it is.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { GENESIS, parseRecord } from '@chainlog/core/format'
import { ROOT, testDir } from './helpers/chain'
import { cli, VERIFY_LOG } from './helpers/seal-writers'

const CHILD = path.join(ROOT, 'test/helpers/stream-child.cjs')
const READER = path.join(ROOT, 'test/helpers/slow-reader.cjs')

type Logger = 'pino-worker' | 'pino-main' | 'winston'

interface Pipeline {
  /** The reader's capture of the pipe. */
  capture: string
  /** Pid files of the writers, in order. */
  pids: string[]
  /** Settles with the shell's exit status once the reader has read everything. */
  done: Promise<number | null>
}

interface Writing {
  /** Lines per writer; -1 logs `burst` lines every `every` ms until stopped. */
  count: number
  writers?: number
  pad?: number
  burst?: number
  every?: number
  /** The reader sleeps `delay` ms after each read of `chunk` bytes. */
  delay?: number
  chunk?: number
}

/** `writers` children of `logger` sharing one pipe, read by the slow reader. */
function pipeline(dir: string, logger: Logger, w: Writing): Pipeline {
  const capture = path.join(dir, 'capture.log')
  const pids = Array.from({ length: w.writers ?? 1 }, (_, i) => path.join(dir, `writer-${i}.pid`))
  const children = pids.map((pidFile) => `CHAINLOG_STREAM='${JSON.stringify({ logger, count: w.count, pad: w.pad ?? 40, burst: w.burst, every: w.every, pidFile })}' "${process.execPath}" "${CHILD}"`)
  const writing = children.length === 1 ? children[0] : `{ ${children.map((c) => `${c} &`).join(' ')} wait; }`
  const shell = spawn('sh', ['-c', `${writing} | "${process.execPath}" "${READER}" "${capture}" ${w.delay ?? 2} ${w.chunk ?? 1024}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const done = new Promise<number | null>((resolve, reject) => {
    shell.on('error', reject)
    shell.on('close', (code) => resolve(code))
  })
  return { capture, pids, done }
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function lines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8')
  return text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined)
}

async function verified(file: string): Promise<{ status: number | null; stdout: string }> {
  const r = await cli(VERIFY_LOG, [file])
  return { status: r.status, stdout: r.stdout }
}

/**
 * The chains in `capture`, each as its lines in chain order: from each
 * header whose prev is GENESIS, following each record's hash to the record
 * whose prev it is. Every line must belong to exactly one chain.
 */
function separate(all: string[]): Map<string, string[]> {
  const byPrev = new Map<string, string>()
  for (const line of all) {
    const prev = line.slice(0, 64)
    if (prev === GENESIS) continue // each chain's header
    expect(byPrev.has(prev), `two lines follow ${prev}`).toBe(false)
    byPrev.set(prev, line)
  }
  const chains = new Map<string, string[]>()
  for (const line of all) {
    const r = parseRecord(line)
    if (!r || r.prev !== GENESIS) continue
    const header = JSON.parse(r.line.slice(2)) as { t: string; chain: string; file: string }
    expect(header).toMatchObject({ t: 'header', file: 'stdout' })
    const chain = [line]
    for (let next = byPrev.get(r.hash); next !== undefined; next = byPrev.get(next.slice(-64))) chain.push(next)
    chains.set(header.chain, chain)
  }
  expect([...chains.values()].reduce((n, c) => n + c.length, 0)).toBe(all.length)
  return chains
}

describe('a chain on stdout, read slowly through a pipe', () => {
  test.each<Logger>(['pino-worker', 'pino-main', 'winston'])('%s: every line reaches the pipe whole, and the capture verifies from a file and from stdin', async (logger) => {
    const dir = testDir()
    const p = pipeline(dir, logger, { count: 3000 })
    expect(await p.done).toBe(0)
    const all = lines(p.capture)
    expect(all).toHaveLength(3001)
    expect(JSON.parse(parseRecord(all[0]!)!.line.slice(2))).toMatchObject({ t: 'header', index: 0, file: 'stdout', seq: 0 })
    const r = await verified(p.capture)
    expect(r.stdout).toMatch(/^VALID/)
    expect(r.stdout).toMatch(/records +3,001 verified/)
    expect(r.status).toBe(0)
    const fromStdin = spawn('sh', ['-c', `"${process.execPath}" "${VERIFY_LOG}" - < "${p.capture}"`], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    fromStdin.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    expect(await new Promise((resolve) => fromStdin.on('close', resolve))).toBe(0)
    expect(out).toMatch(/^VALID[^]*records +3,001 verified/)
  }, 60_000)

  test('SIGTERM while logging without pause: the flush on exit writes whole records, and the capture verifies', async () => {
    const dir = testDir()
    // About as fast as the reader: the pipe is full now and then, and the backlog at the signal small.
    const p = pipeline(dir, 'pino-worker', { count: -1, burst: 40, every: 10 })
    await until('the writer', () => fs.existsSync(p.pids[0]!))
    await until('lines through the slow pipe', () => fs.existsSync(p.capture) && fs.statSync(p.capture).size > 150_000)
    process.kill(Number(fs.readFileSync(p.pids[0]!, 'utf8')), 'SIGTERM')
    await p.done
    const text = fs.readFileSync(p.capture, 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    const r = await verified(p.capture)
    expect(r.stdout).toMatch(/^VALID/)
    expect(r.status).toBe(0)
  }, 60_000)

  test.each<Logger>(['pino-worker', 'pino-main'])('kill -9 of %s mid-stream: what reached the pipe is whole records, and verifies', async (logger) => {
    const dir = testDir()
    // As fast as it can: the pipe stays full, the writer waits out EAGAIN or blocks.
    const p = pipeline(dir, logger, { count: -1 })
    await until('the writer', () => fs.existsSync(p.pids[0]!))
    await until('lines through the slow pipe', () => fs.existsSync(p.capture) && fs.statSync(p.capture).size > 500_000)
    process.kill(Number(fs.readFileSync(p.pids[0]!, 'utf8')), 'SIGKILL')
    await p.done
    const text = fs.readFileSync(p.capture, 'utf8')
    // Batches are at most PIPE_BUF bytes of whole records: a kill cannot cut one.
    expect(text.endsWith('\n')).toBe(true)
    const r = await verified(p.capture)
    expect(r.stdout).toMatch(/^VALID/)
    expect(r.status).toBe(0)
  }, 60_000)
})

describe('several writers on one pipe', () => {
  test('four processes give four chains, interleaved record by record but never within one; each verifies', async () => {
    const dir = testDir()
    // 700-byte lines: five fit in a 4096-byte batch, so writes are many and interleave often.
    const p = pipeline(dir, 'pino-worker', { count: 1000, writers: 4, pad: 600, delay: 1, chunk: 4096 })
    expect(await p.done).toBe(0)
    const all = lines(p.capture)
    expect(all).toHaveLength(4 * 1001)
    const chains = separate(all)
    expect(chains.size).toBe(4)
    // Interleaved: the capture is not four blocks one after the other (a writer that starts
    // late may find another already done, so this counts the runs of every chain).
    const chainOf = new Map<string, string>()
    for (const [id, chain] of chains) for (const line of chain) chainOf.set(line, id)
    const runs = all.reduce((n, line, i) => n + (i === 0 || chainOf.get(all[i - 1]!) !== chainOf.get(line) ? 1 : 0), 0)
    expect(runs).toBeGreaterThan(chains.size)
    for (const [id, chain] of chains) {
      const file = path.join(dir, `${id}.log`)
      fs.writeFileSync(file, chain.join('\n') + '\n')
      expect(chain).toHaveLength(1001)
      const r = await verified(file)
      expect(r.stdout).toMatch(/^VALID/)
      expect(r.stdout).toContain(`chain      ${id}`)
      expect(r.status).toBe(0)
    }
    // The capture as it is holds four headers: verify-log without --shipped names the first foreign line.
    const whole = await verified(p.capture)
    expect(whole.status).toBe(1)
    // verify-log --shipped takes the capture as it is, and finds the same four chains, each complete.
    const shipped = await cli(VERIFY_LOG, ['--shipped', '--json', p.capture])
    expect(shipped.status).toBe(0)
    const report = JSON.parse(shipped.stdout) as { status: string; records: number; chains: { chain: string; status: string; records: number; head: { hash: string } }[] }
    expect(report).toMatchObject({ status: 'VALID', records: 4 * 1001 })
    expect(new Map(report.chains.map((c) => [c.chain, c.records]))).toEqual(new Map([...chains].map(([id, c]) => [id, c.length])))
    for (const c of report.chains) {
      expect(c.status).toBe('VALID')
      expect(c.head.hash).toBe(chains.get(c.chain)!.at(-1)!.slice(-64))
    }
  }, 90_000)
})
