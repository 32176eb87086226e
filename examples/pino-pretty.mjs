#!/usr/bin/env node
// One pino logger, two targets with their own levels: every line from `info`
// up goes into the hash-chained log, and only warnings and errors are shown,
// pretty-printed, on the terminal. Then `verify-log` checks the chain and
// `chainlog extract` reads its lines back.
//
//   node examples/pino-pretty.mjs [out-dir]      (logs go to <out-dir>/pino-pretty, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'pino-pretty')
fs.rmSync(dir, { recursive: true, force: true })
const file = path.join(dir, 'app.log')

const transport = pino.transport({
  targets: [
    { target: '@chainlog/pino', level: 'info', options: { file, mkdir: true } },
    { target: 'pino-pretty', level: 'warn', options: { destination: 1, colorize: false } },
  ],
})
await once(transport, 'ready')
// The logger's own level is the lowest of its targets' levels.
const logger = pino({ level: 'info' }, transport)

const sent = { info: 0, warn: 0, error: 0 }
console.log(`logging to ${file} (info and up) and to this terminal (warn and up):\n`)
for (let i = 1; i <= 30; i++) {
  const level = i % 10 === 0 ? 'error' : i % 4 === 0 ? 'warn' : 'info'
  sent[level]++
  logger[level]({ job: i, queue: 'mail' }, level === 'error' ? `job ${i} failed` : level === 'warn' ? `job ${i} retried` : `job ${i} done`)
}
// Wait until both targets have closed (ref(): see pino-basic.mjs).
transport.ref()
transport.end()
await once(transport, 'close')

console.log(`\nsent ${sent.info} info, ${sent.warn} warn, ${sent.error} error lines\n`)
const check = spawnSync('npx', ['--no-install', 'verify-log', file], { cwd: here, stdio: 'inherit' })
if (check.status !== 0) process.exit(check.status ?? 1)

// `chainlog extract` prints the original lines of a chain that verifies
// (and refuses one that does not), ready for jq or pino-pretty.
const extract = spawnSync('npx', ['--no-install', 'chainlog', 'extract', file], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
if (extract.status !== 0) process.exit(extract.status ?? 1)
const levels = extract.stdout.split('\n').filter(Boolean).map((line) => pino.levels.labels[JSON.parse(line).level])
const count = (label) => levels.filter((l) => l === label).length
console.log(`\nthe chain holds ${levels.length} lines: ${count('info')} info, ${count('warn')} warn, ${count('error')} error`)
if (count('info') !== sent.info || count('warn') !== sent.warn || count('error') !== sent.error) {
  console.error('the chain does not hold exactly the lines that were sent')
  process.exit(1)
}
