'use strict'
// A child process logging through pino.transport and @chainlog/pino with
// seals, for the crash test of test/seal-attacks.test.ts. Once the transport
// is ready it logs `first` lines and waits until they are sealed (after the
// writer's start seal), logs `then`
// more lines, waits until they are in the file, prints `ready` and waits to
// be killed.
const { once } = require('node:events')
const fs = require('node:fs')
const path = require('node:path')
const pino = require('pino')

const cfg = JSON.parse(process.env.CHAINLOG_SEAL_CHILD)
const transport = pino.transport({ target: '@chainlog/pino', options: { file: cfg.file, mkdir: true, ...cfg.options } })
transport.on('error', (err) => process.stdout.write(`transport-error ${err.message}\n`))
const logger = pino(transport)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const count = (test) => {
  const dir = path.dirname(cfg.file)
  let n = 0
  let names = []
  try {
    names = fs.readdirSync(dir)
  } catch {
    return 0 // the transport has not made the directory yet
  }
  for (const f of names) if (/^app\.\d+\.log$/.test(f)) n += fs.readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter((l) => l.length > 130 && test(l.slice(65))).length
  return n
}
const userLines = () => count((stored) => stored[0] === '{')
const seals = () => count((stored) => stored.startsWith('\\m{"t":"seal"'))

async function main () {
  await once(transport, 'ready')
  let i = 0
  for (; i < cfg.first; i++) logger.info({ i }, 'before the crash')
  // The writer's start seal, then the seal of these lines.
  while (seals() < 2) await sleep(10)
  await sleep(cfg.pauseMs)
  for (; i < cfg.first + cfg.then; i++) logger.info({ i }, 'just before the crash')
  while (userLines() < cfg.first + cfg.then) await sleep(10)
  process.stdout.write('ready\n')
  setInterval(() => {}, 1000)
}
main()
