import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createChainWriter, verify } from '@chainlog/core'
import { tempDir } from './helpers/chain'
import { collect, isSequence, SCALE } from './helpers/writers'

const CHILD = path.join(__dirname, 'helpers', 'core-writer-child.cjs')
const dirs: string[] = []
const temp = () => {
  const d = tempDir()
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function child(args: string[], onLine?: (line: string) => void) {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  let out = ''
  proc.stderr.on('data', (d) => (err += d))
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) !== -1) {
      onLine?.(out.slice(0, nl))
      out = out.slice(nl + 1)
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stderr: err })))
  return { proc, exited }
}

function thread(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CHILD, { workerData: args })
    w.on('error', reject)
    w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))))
  })
}

describe('one chain from many writers (core writer)', () => {
  it('several writers in one thread append one chain, each in its own order', async () => {
    const base = path.join(temp(), 'app.log')
    const writers = await Promise.all([0, 1, 2].map(() => createChainWriter({ file: base, size: '64k' })))
    const n = 3000 * SCALE
    for (let i = 0; i < n; i++) for (const [k, w] of writers.entries()) w.write(JSON.stringify({ w: `t${k}`, i }))
    await Promise.all(writers.map((w) => w.close()))
    const { report, perWriter } = await collect(base)
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    for (let k = 0; k < 3; k++) expect(isSequence(perWriter.get(`t${k}`), n)).toBe(true)
    expect(report.files.length).toBeGreaterThan(3)
  })

  it('worker threads and child processes together, with size rotation and retention', async () => {
    const base = path.join(temp(), 'app.log')
    const n = 10_000 * SCALE
    const jobs: Promise<unknown>[] = []
    for (let k = 0; k < 4; k++) jobs.push(thread([base, `th${k}`, String(n), '1m']))
    const procs = [0, 1].map((k) => child([base, `p${k}`, String(n), '1m']))
    jobs.push(...procs.map((p) => p.exited.then((r) => expect(r).toMatchObject({ code: 0 }))))
    await Promise.all(jobs)
    const { report, perWriter, other } = await collect(base)
    expect(report.breaks).toEqual([])
    expect(other).toEqual([])
    for (const id of ['th0', 'th1', 'th2', 'th3', 'p0', 'p1']) expect(isSequence(perWriter.get(id), n), id).toBe(true)
    // Exactly one writer rotated each time: the file indexes are 0..k with no gap.
    const names = fs.readdirSync(path.dirname(base)).filter((f) => /^app\.\d+\.log$/.test(f))
    expect(names.length).toBe(report.files.length)
    expect(report.files.length).toBeGreaterThan(2)
  })

  it('SIGKILL at random moments, then a new writer: only recovered torn tails, every acknowledged line kept', async () => {
    const dir = temp()
    const base = path.join(dir, 'app.log')
    const iterations = 10 * SCALE
    const acked = new Map<string, number>()
    for (let k = 0; k < iterations; k++) {
      const id = `c${k}`
      const c = child([base, id, '100000000', '256k', '50'], (line) => {
        const m = /^ack (\d+)$/.exec(line)
        if (m) acked.set(id, Number(m[1]))
      })
      // Let it get going (its first ack), then kill it at a random moment.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (acked.has(id)) {
            clearInterval(timer)
            setTimeout(resolve, Math.random() * 150)
          }
        }, 5)
      })
      c.proc.kill('SIGKILL')
      const r = await c.exited
      expect(r.signal).toBe('SIGKILL')
    }
    const w = await createChainWriter({ file: base })
    w.write('after the crashes')
    await w.close()
    const { report, perWriter, other } = await collect(base)
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.partial).toBeNull()
    expect(other).toEqual(['after the crashes'])
    for (const [id, last] of acked) {
      const seq = perWriter.get(id)!
      // In order, no gaps, and at least everything up to the last acknowledged line.
      expect(isSequence(seq, seq.length), id).toBe(true)
      expect(seq.length, id).toBeGreaterThan(last)
    }
    // Each kill usually leaves the lock held, and the next writer waits out the
    // stale time (3 s): about 3.5 s an iteration, so the budget grows with SCALE.
  }, 120_000 + 60_000 * SCALE)

  it('a torn record left by a dead writer is terminated and named, then the chain goes on', async () => {
    const base = path.join(temp(), 'app.log')
    const w = await createChainWriter({ file: base })
    for (let i = 0; i < 10; i++) w.write(JSON.stringify({ w: 'a', i }))
    await w.close()
    // What a kill mid-write leaves: the first bytes of one more record.
    const file = w.file
    const lastHash = w.head().hash
    const fragment = `${lastHash}|{"w":"a","i":10,"ms`
    fs.appendFileSync(file, fragment)
    const [r1, r2] = await Promise.all([createChainWriter({ file: base }), createChainWriter({ file: base })])
    r1.write(JSON.stringify({ w: 'b', i: 0 }))
    r2.write(JSON.stringify({ w: 'c', i: 0 }))
    await Promise.all([r1.close(), r2.close()])
    const report = await verify(base)
    expect(report.ok).toBe(true)
    expect(report.recovered).toEqual([{ file, line: 12, offset: expect.any(Number), length: fragment.length }])
    // Recovered once, by whichever writer took the lock first.
    expect(fs.readFileSync(file, 'utf8').match(/"t":"recovery"/g)).toHaveLength(1)
  })

  it('a writer that died holding the lock blocks the others only until the lock is stale', async () => {
    const base = path.join(temp(), 'app.log')
    const first = await createChainWriter({ file: base, staleLockMs: 2000 })
    first.write('before')
    await first.close()
    // What a holder killed with SIGKILL leaves behind: the lock directory, fresh.
    fs.mkdirSync(`${base}.lock`)
    const started = Date.now()
    const w = await createChainWriter({ file: base, staleLockMs: 2000 })
    w.write('after')
    await w.close()
    const waited = Date.now() - started
    // It did wait for the stale lock (it could not have got it earlier)…
    expect(waited).toBeGreaterThanOrEqual(1500)
    const report = await verify(base)
    expect(report.ok).toBe(true)
    expect(report.records).toBe(3)
  })
})
