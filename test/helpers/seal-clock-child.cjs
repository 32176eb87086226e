'use strict'
// A child process logging through pino.transport and @chainlog/pino with
// seals, run under libfaketime for test/seal-clock.test.ts: its clock starts
// just before midnight UTC; once it reads a time past midnight (the sealing
// state has moved on to the new epoch) the child steps its own clock back by
// `stepBack` seconds, as an NTP correction does, by rewriting libfaketime's
// timestamp file, and logs on across the step before it ends the transport.
const { once } = require('node:events')
const fs = require('node:fs')
const pino = require('pino')

const cfg = JSON.parse(process.env.CHAINLOG_CLOCK_CHILD)
const transport = pino.transport({ target: '@chainlog/pino', options: { file: cfg.file, mkdir: true, ...cfg.options } })
transport.on('error', (err) => process.stdout.write(`transport-error ${err.message}\n`))
const logger = pino({ base: { pid: 4242, hostname: 'web-1' } }, transport)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  await once(transport, 'ready')
  let i = 0
  while (Date.now() < cfg.midnight + 1000) {
    logger.info({ i: i++ }, 'before the step')
    await sleep(50)
  }
  const before = Date.now()
  const stepped = cfg.offset - cfg.stepBack
  fs.writeFileSync(process.env.FAKETIME_TIMESTAMP_FILE, `${stepped < 0 ? '' : '+'}${stepped}\n`)
  const after = Date.now()
  process.stdout.write(`stepped ${before} ${after}\n`)
  for (let k = 0; k < 30; k++) {
    logger.info({ i: i++ }, 'after the step')
    await sleep(50)
  }
  const closed = once(transport, 'close')
  transport.end()
  await closed
  process.stdout.write('done\n')
}
main()
