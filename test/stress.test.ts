import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/chain'
import { collect, isSequence, SCALE } from './helpers/writers'

// The stress runs of issue #6, against the built transports. Counts scale with
// CHAINLOG_STRESS_SCALE (npm run soak sets 10).
const THREADS = 8
const PROCESSES = 4
const LINES = Math.round(50_000 * SCALE)

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
const temp = () => {
  const d = tempDir('chainlog-stress-')
  dirs.push(d)
  return d
}

function pinoThread(file: string, id: string, count: number, size?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'helpers', 'stress-pino-thread.cjs'), { workerData: { file, id, count, size } })
    w.on('message', (m: { done?: boolean; error?: string }) => {
      if (m.error) reject(new Error(`${id}: ${m.error}`))
      if (m.done) void w.terminate().then(() => resolve())
    })
    w.on('error', reject)
  })
}

function winstonProcess(file: string, id: string, count: number, size?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'helpers', 'stress-winston-process.cjs'), file, id, String(count), ...(size ? [size] : [])], { stdio: ['ignore', 'inherit', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${id} exited ${code}: ${err}`))))
  })
}

async function expectOneChain(base: string, writers: string[]) {
  const { report, perWriter, other } = await collect(base)
  if (report.breaks.length && process.env.CHAINLOG_KEEP_FAILED) fs.cpSync(path.dirname(base), process.env.CHAINLOG_KEEP_FAILED, { recursive: true })
  expect(report.breaks).toEqual([])
  expect(report.ok).toBe(true)
  expect(report.partial).toBeNull()
  expect(other).toEqual([])
  for (const id of writers) expect(isSequence(perWriter.get(id), LINES), `${id}: every line, once, in order`).toBe(true)
  expect([...perWriter.keys()].sort()).toEqual([...writers].sort())
  return report
}

describe(`stress: ${THREADS} threads x ${LINES} lines (pino) and ${PROCESSES} processes x ${LINES} lines (winston), one log`, () => {
  it(`${THREADS} worker threads, each with its own pino.transport, one chain`, async () => {
    const base = path.join(temp(), 'app.log')
    const ids = Array.from({ length: THREADS }, (_, k) => `thread${k}`)
    await Promise.all(ids.map((id) => pinoThread(base, id, LINES)))
    const report = await expectOneChain(base, ids)
    expect(report.records).toBe(THREADS * LINES + 1)
  })

  it(`${PROCESSES} processes through winston, one chain`, async () => {
    const base = path.join(temp(), 'app.log')
    const ids = Array.from({ length: PROCESSES }, (_, k) => `proc${k}`)
    await Promise.all(ids.map((id) => winstonProcess(base, id, LINES)))
    const report = await expectOneChain(base, ids)
    expect(report.records).toBe(PROCESSES * LINES + 1)
  })

  it('both at once, rotating at 5 MB: exactly one writer rotates each time, the others follow', async () => {
    const dir = temp()
    const base = path.join(dir, 'app.log')
    const threads = Array.from({ length: THREADS }, (_, k) => `thread${k}`)
    const procs = Array.from({ length: PROCESSES }, (_, k) => `proc${k}`)
    await Promise.all([...threads.map((id) => pinoThread(base, id, LINES, '5m')), ...procs.map((id) => winstonProcess(base, id, LINES, '5m'))])
    const report = await expectOneChain(base, [...threads, ...procs])
    // One file per rotation, indexes without gaps, none over 5 MB, no stray files.
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
    expect(files.length).toBe(report.files.length)
    expect(report.files.length).toBeGreaterThan(Math.floor(((THREADS + PROCESSES) * LINES * 150) / (5 * 1024 * 1024)))
    for (const f of report.files) expect(fs.statSync(f).size).toBeLessThanOrEqual(5 * 1024 * 1024)
  })
})
