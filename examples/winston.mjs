#!/usr/bin/env node
// winston with ChainlogTransport: a hash-chained log rotated by size, with
// winston-daily-rotate-file's option names, next to the usual Console
// transport. Then `verify-log` checks the chain.
//
//   node examples/winston.mjs [out-dir]          (logs go to <out-dir>/winston, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import winston from 'winston'
import ChainlogTransport from '@chainlog/winston'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'winston')
fs.rmSync(dir, { recursive: true, force: true })

const chain = new ChainlogTransport({ filename: path.join(dir, 'app.log'), maxSize: '8k', maxFiles: 10 })
chain.on('new', (file) => console.log(`writing ${path.relative(dir, file)}`))
chain.on('rotate', (from, to) => console.log(`rotated ${path.relative(dir, from)} -> ${path.relative(dir, to)}`))
chain.on('error', (err) => {
  console.error(`chainlog transport error: ${err.message}`)
  process.exitCode = 1
})

const logger = winston.createLogger({
  level: 'info',
  // json() makes one line per entry: the record holds exactly the line
  // winston's File transport would have written.
  format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
  transports: [chain, new winston.transports.Console({ level: 'error', format: winston.format.simple() })],
})

console.log(`logging 120 entries to ${path.join(dir, 'app.log')}, rotating every 8 KiB (errors also on the console)`)
for (let i = 1; i <= 120; i++) logger.info('invoice sent', { invoice: `INV-${1000 + i}`, total: (i * 113) % 900 })
// With json(), an error and its stack trace are one line, so one record.
logger.error(new Error('payment gateway timed out'))

// 'finish' on the transport: every entry has been handed to the OS and the file is closed.
logger.end()
await once(chain, 'finish')
const head = chain.head()
console.log(`head ${head.hash} at record ${head.count}: keep it somewhere else to detect truncation\n`)

const check = spawnSync('npx', ['--no-install', 'verify-log', path.join(dir, 'app.log')], { cwd: here, stdio: 'inherit' })
process.exit(check.status ?? 1)
