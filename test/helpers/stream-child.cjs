'use strict'
// A child process whose chain goes to its standard output (destination: 1),
// through pino's worker transport, pino in the main thread, or winston, as
// CHAINLOG_STREAM says. It writes its pid first (to `pidFile`), then logs
// `count` lines, or logs without end (`count: -1`, `burst` lines every `every`
// ms) until a signal or kill -9.
const fs = require('node:fs')
const cfg = JSON.parse(process.env.CHAINLOG_STREAM)
fs.writeFileSync(cfg.pidFile + '.tmp', String(process.pid))
fs.renameSync(cfg.pidFile + '.tmp', cfg.pidFile)

async function open () {
  if (cfg.logger === 'winston') {
    const winston = require('winston')
    const { ChainlogTransport } = require('@chainlog/winston')
    const logger = winston.createLogger({ format: winston.format.json(), transports: [new ChainlogTransport({ destination: 1 })] })
    return { log: (i, pad) => logger.info(`line ${i}`, { i, pad }), logger, end: () => logger.end() }
  }
  const pino = require('pino')
  const { chainlog, exitOnSignals } = require('@chainlog/pino')
  const stream = cfg.logger === 'pino-main' ? await chainlog({ destination: 1 }) : pino.transport({ target: '@chainlog/pino', options: { destination: 1 } })
  const logger = pino(stream)
  exitOnSignals(logger)
  return { log: (i, pad) => logger.info({ i, pad }, `line ${i}`), logger, end: () => {} }
}

open().then((l) => {
  const pad = 'x'.repeat(cfg.pad ?? 40)
  if (cfg.count >= 0) {
    for (let i = 0; i < cfg.count; i++) l.log(i, pad)
    l.end()
    return
  }
  let i = 0
  const burst = () => {
    for (let k = 0; k < (cfg.burst ?? 200); k++) l.log(i++, pad)
    setTimeout(burst, cfg.every ?? 0)
  }
  burst()
})
