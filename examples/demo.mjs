#!/usr/bin/env node
// The main job, end to end: a pino application logs through @chainlog/pino
// into a hash-chained, rotating log; `verify-log` checks it; an attacker edits
// a copy the way one would; `verify-log` names the first line that can no
// longer be trusted, and `chainlog extract` reads the lines back.
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const pino = require('pino')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => path.join(root, 'node_modules', '.bin', name)
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-demo-'))
const logs = path.join(work, 'logs')
const say = (s = '') => console.log(s)
const rel = (p) => path.relative(work, p)

function run(name, args) {
  say(`   $ ${name} ${args.map((a) => (a.startsWith(work) ? rel(a) : a)).join(' ')}`)
  const r = spawnSync(bin(name), args, { encoding: 'utf8', cwd: work })
  const out = (r.stdout + r.stderr).trimEnd().split('\n').map((l) => `     ${l.split(work + path.sep).join('')}`)
  say(out.join('\n'))
  say(`   (exit status ${r.status})`)
  return r
}

say(`1. A pino application logs 3,000 payments through @chainlog/pino (a worker thread), rotating every 128 KiB`)
const transport = pino.transport({ target: '@chainlog/pino', options: { file: path.join(logs, 'app.log'), size: '128k', mkdir: true } })
// pino unrefs its transport worker; this script waits for it to close, so keep it referenced.
await once(transport, 'ready')
transport.ref()
const logger = pino({ base: { pid: 4242, hostname: 'pay-1' } }, transport)
for (let i = 1; i <= 3000; i++) logger.info({ payment: i, amount: i * 10, currency: 'EUR' }, 'payment settled')
transport.end()
await once(transport, 'close')
say(`   files: ${fs.readdirSync(logs).sort().join(', ')}`)
say(`   a record: ${fs.readFileSync(path.join(logs, 'app.2.log'), 'utf8').split('\n')[1].slice(0, 150)}…`)

say('\n2. Verify the untouched log')
const valid = run('verify-log', [path.join(logs, 'app.log')])

say('\n3. An attacker changes one amount in a copy of the logs')
const copy = path.join(work, 'copy')
fs.cpSync(logs, copy, { recursive: true })
const victim = path.join(copy, 'app.2.log')
const lines = fs.readFileSync(victim, 'utf8').split('\n')
const target = lines.findIndex((l) => l.includes('"amount":'))
lines[target] = lines[target].replace(/"amount":(\d+)/, '"amount":9$1')
fs.writeFileSync(victim, lines.join('\n'))
say(`   edited ${rel(victim)} line ${target + 1}`)

say('\n4. Verify the tampered copy')
const broken = run('verify-log', [copy])

say('\n5. The attacker also recomputes that line\'s hash: the next line gives it away')
const body = lines[target].slice(0, -65)
const { createHashFn } = require('@chainlog/core/format')
lines[target] = body + '|' + createHashFn('sha256')(body)
fs.writeFileSync(victim, lines.join('\n'))
const json = spawnSync(bin('verify-log'), ['--json', copy], { encoding: 'utf8' })
const b = JSON.parse(json.stdout).breaks[0]
say(`   verify-log --json: ${b.reason} at ${rel(b.file)}:${b.line}`)

say('\n6. Read the untouched log back, chain fields stripped: chainlog extract logs | tail -2')
const extract = spawnSync(bin('chainlog'), ['extract', logs], { encoding: 'utf8' })
say(extract.stdout.trimEnd().split('\n').slice(-2).map((l) => `     ${l}`).join('\n'))

fs.rmSync(work, { recursive: true, force: true })
const expected = valid.status === 0 && broken.status === 1 && b.line === target + 2 && b.reason === 'PREV_MISMATCH' && extract.status === 0
if (!expected) {
  console.error('\nthe demo did not go as expected')
  process.exit(1)
}
