// Sealed logs written by the real transports, for test/seal-attacks.test.ts:
// pino in a worker thread (pino.transport) and winston's ChainlogTransport in
// this process, child processes and threads for the crash and the several
// writers, and the built CLI run as a child process.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import pino from 'pino'
import winston from 'winston'
import { ChainlogTransport } from '@chainlog/winston'
import { ROOT } from './chain'

export const VERIFY_LOG = path.join(ROOT, 'packages/cli/bin/verify-log.js')
export const CHAINLOG = path.join(ROOT, 'packages/cli/bin/chainlog.js')

/**
 * What the log is asked to do, in order: log `lines` lines `every` ms apart,
 * log a line every `every` ms until the clock reaches `until`, or stay idle
 * for `idle` ms.
 */
export type Step = { lines: number; every?: number } | { until: number; every: number } | { idle: number }

export interface SealOptions {
  sealKey: string
  sealEvery?: number
  sealInterval?: number
  size?: string
  algorithm?: 'hmac-sha256'
  keyFile?: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function play(plan: Step[], log: (i: number) => void): Promise<number> {
  let i = 0
  for (const step of plan) {
    if ('idle' in step) {
      await sleep(step.idle)
      continue
    }
    if ('until' in step) {
      while (Date.now() < step.until) {
        log(i++)
        await sleep(step.every)
      }
      continue
    }
    for (let k = 0; k < step.lines; k++, i++) {
      log(i)
      if (step.every) await sleep(step.every)
    }
  }
  return i
}

/**
 * Logs through `pino.transport({ target: '@chainlog/pino' })` (a worker
 * thread) following `plan`, then ends the transport and waits until its
 * file is closed (after the closing seal). Returns the transport's errors.
 */
export async function pinoSealed(file: string, options: SealOptions, plan: Step[]): Promise<string[]> {
  const errors: string[] = []
  const transport = pino.transport({ target: '@chainlog/pino', options: { file, mkdir: true, ...options } })
  transport.on('error', (err: Error) => errors.push(err.message))
  await once(transport, 'ready')
  const logger = pino({ base: { pid: 4242, hostname: 'web-1' } }, transport)
  await play(plan, (i) => logger.info({ i, route: '/api/orders', status: 200 }, 'request served'))
  const closed = once(transport, 'close')
  transport.end()
  await closed
  return errors
}

/** The same through winston and ChainlogTransport in this process; 'finish' comes after the closing seal. */
export async function winstonSealed(file: string, options: SealOptions, plan: Step[]): Promise<string[]> {
  const errors: string[] = []
  const { size, ...rest } = options
  const transport = new ChainlogTransport({ filename: file, ...rest, ...(size && { maxSize: size }) })
  transport.on('error', (err: Error) => errors.push(err.message))
  const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] })
  await play(plan, (i) => logger.info('invoice booked', { i, invoice: `INV-${1000 + i}` }))
  const finished = once(transport, 'finish')
  logger.end()
  await finished
  return errors
}

/** A pino worker thread of the several-writers test (test/helpers/seal-pino-thread.cjs). */
export function pinoThread(file: string, id: string, count: number, options: SealOptions, burst = 25, pauseMs = 60): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'seal-pino-thread.cjs'), { workerData: { file, id, count, burst, pauseMs, options } })
    w.on('message', (m: { done?: boolean; error?: string }) => {
      if (m.error) reject(new Error(`${id}: ${m.error}`))
      if (m.done) void w.terminate().then(() => resolve())
    })
    w.on('error', reject)
  })
}

/** A winston process of the several-writers test (test/helpers/seal-winston-process.cjs). */
export function winstonProcess(file: string, id: string, count: number, options: SealOptions, burst = 25, pauseMs = 60): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'seal-winston-process.cjs')], {
      env: { ...process.env, CHAINLOG_SEAL_CHILD: JSON.stringify({ file, id, count, burst, pauseMs, options }) },
      stdio: ['ignore', 'inherit', 'pipe'],
    })
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${id} exited ${code}: ${err}`))))
  })
}

/**
 * A pino writer in a child process killed with SIGKILL (test/helpers/seal-pino-child.cjs):
 * `first` lines, a pause, `then` lines in the file, then the kill.
 */
export function crashedPino(file: string, options: SealOptions, first: number, then: number, pauseMs: number): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'seal-pino-child.cjs')], {
      env: { ...process.env, CHAINLOG_SEAL_CHILD: JSON.stringify({ file, options, first, then, pauseMs }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (stdout.includes('ready\n')) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => resolve({ signal, stdout }))
  })
}

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs a built executable of @chainlog/cli and waits for it. */
export function cli(bin: string, args: string[]): Promise<CliResult> {
  if (!fs.existsSync(path.join(ROOT, 'packages/cli/dist/verify-log.js'))) throw new Error('build the packages first: npx turbo run build')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

export interface SealBreak {
  file: string
  line: number
  reason: string
  message: string
  expected?: string
  found?: string
}

export interface VerifyJson {
  ok: boolean
  status: string
  count: number
  breaks: SealBreak[]
  seals?: { key: string; valid: number; sealedThrough: number; unsealed: number; lastSealTime: number | null; closed: boolean; lastKind: string | null }
  checkpoint?: { reached: boolean }
}

/** `verify-log --json …`: the exit status and the parsed report. */
export async function verifyJson(args: string[]): Promise<{ status: number | null; report: VerifyJson; stderr: string }> {
  const r = await cli(VERIFY_LOG, ['--json', ...args])
  let report: VerifyJson
  try {
    report = JSON.parse(r.stdout) as VerifyJson
  } catch {
    throw new Error(`verify-log printed no JSON (status ${r.status}):\n${r.stdout}\n${r.stderr}`)
  }
  return { status: r.status, report, stderr: r.stderr }
}
