/**
 * exitOnSignals cooperates with the application's own graceful shutdown
 * (issue #13): a real fastify server from the packed project, with
 * @chainlog/pino as its logger's transport, a slow request in flight and a
 * real SIGTERM. With `close: () => app.close()` the request completes, its
 * lines and "server closed" are in the chain, and the chain verifies with the
 * installed verify-log. The pattern the option replaces (a handler of one's
 * own next to exitOnSignals) is run too: it cuts the request, which is what
 * the option is for.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exitOnSignals } from '@chainlog/pino'
import { packedProject, type PackedProject } from './helpers/packed'

let packed: PackedProject

// The service: fastify's pino logger writing through @chainlog/pino; GET
// /slow answers after SLOW_MS. SHUTDOWN picks how SIGTERM is handled.
const SERVICE = `
const Fastify = require('fastify')
const { exitOnSignals } = require('@chainlog/pino')
const app = Fastify({ logger: { transport: { target: '@chainlog/pino', options: { file: process.env.LOG_FILE, mkdir: true } } }, requestIdHeader: 'x-request-id' })
app.get('/slow', async (request) => {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLOW_MS)))
  request.log.info('report built')
  return { done: true }
})
const close = async () => {
  await app.close()
  app.log.info('server closed')
}
if (process.env.SHUTDOWN === 'option') exitOnSignals(app.log, { close })
else {
  // Two handlers: the application's, and exitOnSignals', which exits as soon as the log is flushed.
  process.once('SIGTERM', close)
  exitOnSignals(app.log)
}
app.listen({ host: '127.0.0.1', port: 0 }).then((address) => console.log('listening on ' + address))
`

beforeAll(() => {
  packed = packedProject({ name: 'fastify-service' })
  fs.writeFileSync(path.join(packed.project, 'service.cjs'), SERVICE)
}, 300_000)

afterAll(() => packed?.cleanup())

interface Outcome {
  response: { status: number; body: string } | { error: string }
  code: number | null
  stderr: string
}

/** Starts the service, sends GET /slow, sends SIGTERM while it is in flight; the client's outcome and the exit status. */
async function shutDownDuringSlowRequest(shutdown: 'option' | 'own-handler', logFile: string): Promise<Outcome> {
  const child = spawn(process.execPath, ['service.cjs'], { cwd: packed.project, env: { ...process.env, LOG_FILE: logFile, SLOW_MS: '1500', SHUTDOWN: shutdown }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)
      if (m) resolve(Number(m[1]))
    })
    child.on('close', () => reject(new Error(`service exited before listening:\n${stdout}\n${stderr}`)))
  })
  const response = new Promise<Outcome['response']>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow', headers: { 'x-request-id': 'slow-1' } }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
      res.on('error', (err) => resolve({ error: err.message }))
    })
    req.on('error', (err) => resolve({ error: err.message }))
  })
  // The request is in the handler (fastify logged "incoming request") before the signal.
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.kill('SIGTERM')
  return { response: await response, code: await exited, stderr }
}

describe('exitOnSignals next to fastify graceful shutdown, from the packed tarballs', () => {
  test('close: () => app.close(): the request in flight completes, its lines and "server closed" are in the verified chain', async () => {
    const logs = path.join(packed.project, 'logs-option')
    const outcome = await shutDownDuringSlowRequest('option', path.join(logs, 'app.log'))
    expect(outcome.response).toEqual({ status: 200, body: '{"done":true}' })
    expect(outcome.code, outcome.stderr).toBe(143)

    const check = packed.bin('verify-log', [path.join(logs, 'app.log')])
    expect(check.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(check.status).toBe(0)
    const extract = packed.bin('chainlog', ['extract', path.join(logs, 'app.log')])
    expect(extract.status).toBe(0)
    const lines = extract.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; reqId?: string; res?: { statusCode: number } })
    const msgs = lines.map((l) => l.msg)
    expect(lines.filter((l) => l.reqId === 'slow-1').map((l) => l.msg)).toEqual(['incoming request', 'report built', 'request completed'])
    expect(lines.find((l) => l.reqId === 'slow-1' && l.msg === 'request completed')?.res?.statusCode).toBe(200)
    expect(msgs.at(-1)).toBe('server closed')
  })

  test('without the option, a handler of the application\'s own is cut short: the client loses the request', async () => {
    const logs = path.join(packed.project, 'logs-own-handler')
    const outcome = await shutDownDuringSlowRequest('own-handler', path.join(logs, 'app.log'))
    expect(outcome.response).toHaveProperty('error')
    expect(outcome.code).toBe(143)
    const extract = packed.bin('chainlog', ['extract', path.join(logs, 'app.log')])
    expect(extract.stdout).not.toContain('server closed')
  })
})

test('close must be a function', () => {
  expect(() => exitOnSignals({ flush() {} }, { close: 'app.close' as never })).toThrow(/^close must be a function/)
})
