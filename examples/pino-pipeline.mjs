#!/usr/bin/env node
// @chainlog/pino as the last stage of a pino transport pipeline: a redacting
// stage (pino-pipeline/redact.mjs) removes passwords and card numbers in the
// worker thread, and the chain keeps the lines as they leave it. Then
// `verify-log` checks the chain and `chainlog extract` shows what it holds.
//
//   node examples/pino-pipeline.mjs [out-dir]    (logs go to <out-dir>/pino-pipeline, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { Events } from '@chainlog/pino'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'pino-pipeline')
fs.rmSync(dir, { recursive: true, force: true })
const file = path.join(dir, 'app.log')

// Each stage runs in the same worker thread, in order; the chain is last, so
// what it records (and what verify-log vouches for) is the redacted line.
const transport = pino.transport({
  pipeline: [
    { target: path.join(here, 'pino-pipeline/redact.mjs'), options: { keys: ['password', 'card'] } },
    { target: '@chainlog/pino', options: { file, mkdir: true } },
  ],
})
transport.on(Events.HEAD, (head) => console.log(`head ${head.hash} at record ${head.count}`))
transport.on('error', (err) => {
  console.error(`transport error: ${err.message}`)
  process.exitCode = 1
})
await once(transport, 'ready')
const logger = pino(transport)
const USERS = 20
console.log(`logging ${USERS} sign-ins and payments to ${file}, through the redacting stage\n`)
for (let i = 1; i <= USERS; i++) {
  logger.info({ user: `u${i}`, password: `hunter${i}` }, 'sign-in')
  logger.info({ user: `u${i}`, card: `4111 1111 1111 ${String(1000 + i)}`, eur: i * 5 }, 'payment')
}
// In a pipeline, logger.flush() does not reach the last stage (pino's
// pipeline stream has no flush); ending the transport writes and closes the
// chain, then reports its head (ref(): see pino-basic.mjs).
transport.ref()
transport.end()
await once(transport, 'close')

const check = spawnSync('npx', ['--no-install', 'verify-log', file], { cwd: here, stdio: 'inherit' })
if (check.status !== 0) process.exit(check.status ?? 1)
const extract = spawnSync('npx', ['--no-install', 'chainlog', 'extract', file], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
if (extract.status !== 0) process.exit(extract.status ?? 1)
const lines = extract.stdout.split('\n').filter(Boolean)
const leaked = lines.filter((l) => /hunter|4111/.test(l)).length
console.log(`\nthe chain holds ${lines.length} lines; ${leaked} of them hold a password or card number`)
console.log(`first payment as recorded: ${lines.find((l) => l.includes('"payment"'))}`)
process.exit(leaked === 0 ? 0 : 1)
