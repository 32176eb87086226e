#!/usr/bin/env node
// pino writing a hash-chained log through the @chainlog/pino transport, with
// size rotation and retention, then `verify-log` checking the files it left.
//
//   node examples/pino-basic.mjs [out-dir]       (logs go to <out-dir>/pino-basic, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { Events } from '@chainlog/pino'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'pino-basic')
fs.rmSync(dir, { recursive: true, force: true })

// The transport runs in a worker thread, as pino's own transports do. Options
// follow pino-roll: rotate past 16 KiB, keep 3 rotated files besides the
// current one. Each deletion is written into the chain before it happens, so
// the verifier accepts the missing start of the chain.
const transport = pino.transport({
  target: '@chainlog/pino',
  options: { file: path.join(dir, 'app.log'), size: '16k', limit: { count: 3 }, mkdir: true },
})
transport.on(Events.ROTATE, ({ to }) => console.log(`rotated to ${path.relative(dir, to)}`))
transport.on(Events.REMOVE, (file) => console.log(`retention deleted ${path.relative(dir, file)} (recorded in the chain first)`))
transport.on(Events.HEAD, (head) => console.log(`head ${head.hash} at record ${head.count}: keep it somewhere else to detect truncation`))
transport.on('error', (err) => {
  console.error(`transport error: ${err.message}`)
  process.exitCode = 1
})

// 'ready': the log is open (a bad option or an unwritable directory fails here).
await once(transport, 'ready')
const logger = pino(transport)
const LINES = 600
console.log(`logging ${LINES} lines to ${path.join(dir, 'app.log')}, rotating every 16 KiB`)
for (let i = 1; i <= LINES; i++) {
  logger.info({ order: i, customer: `c-${(i * 7919) % 1000}`, amount: (i * 37) % 500 }, 'order paid')
}

// Ending the transport makes its worker write everything and close the file.
// pino unrefs the worker once it is ready (so that it never keeps a process
// alive); a script that waits for 'close' must hold it with ref() meanwhile.
transport.ref()
transport.end()
await once(transport, 'close')

console.log(`files left: ${fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ')}\n`)

// Verify the log as a user would, with the CLI of @chainlog/cli.
const check = spawnSync('npx', ['--no-install', 'verify-log', path.join(dir, 'app.log')], { cwd: here, stdio: 'inherit' })
process.exit(check.status ?? 1)
