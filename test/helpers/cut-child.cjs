'use strict'
// A child process that logs through a real transport (pino in its worker
// thread, or winston), stops and says "ready" once its lines are written,
// logs more when told "go" on stdin, and ends the documented way. Used to cut
// or rotate its file in between (test/cut-under-writer.test.ts).
const cfg = JSON.parse(process.env.CHAINLOG_CHILD)
const say = (s) => process.stdout.write(s + '\n')

function pinoLogger () {
  const pino = require('pino')
  const stream = pino.transport({ target: '@chainlog/pino', options: { file: cfg.file, mkdir: true, ...cfg.options } })
  stream.on('error', (err) => say(`transport-error ${err.message}`))
  stream.on('chainlog:truncation', (e) => say(`event truncation ${JSON.stringify(e)}`))
  const logger = pino(stream)
  return { log: (i) => logger.info({ i }, `line ${i}`), flush: (cb) => logger.flush(cb), end: () => logger.flush(() => process.exit(0)) }
}

function winstonLogger () {
  const winston = require('winston')
  const { ChainlogTransport } = require('@chainlog/winston')
  const transport = new ChainlogTransport({ filename: cfg.file, ...cfg.options })
  transport.on('error', (err) => say(`transport-error ${err.message}`))
  transport.on('truncation', (e) => say(`event truncation ${JSON.stringify(e)}`))
  const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] })
  logger.on('error', () => {})
  return {
    log: (i) => logger.info(`line ${i}`, { i }),
    flush: (cb) => transport.flush().then(() => cb(), cb),
    end: () => {
      logger.on('finish', () => process.exit(0))
      logger.end()
    },
  }
}

const logger = cfg.transport === 'winston' ? winstonLogger() : pinoLogger()
let n = 0
for (; n < cfg.before; n++) logger.log(n)
logger.flush(() => say('ready'))
process.stdin.setEncoding('utf8').on('data', (d) => {
  if (!d.includes('go')) return
  for (const stop = n + cfg.after; n < stop; n++) logger.log(n)
  logger.end()
})
