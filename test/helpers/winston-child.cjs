'use strict'
// A child process that logs through winston and @chainlog/winston, then ends
// the way CHAINLOG_CHILD.scenario says. Used by the conformance and winston tests.
const winston = require('winston')
const { ChainlogTransport } = require('@chainlog/winston')

const cfg = JSON.parse(process.env.CHAINLOG_CHILD)

const transport = new ChainlogTransport({ filename: cfg.file, handleExceptions: cfg.scenario === 'uncaught', ...cfg.options })
transport.on('error', (err) => process.stdout.write(`transport-error ${err.message}\n`))
for (const name of ['new', 'rotate', 'logRemoved']) transport.on(name, (...args) => process.stdout.write(`event ${name} ${JSON.stringify(args)}\n`))
const format = cfg.lines
  ? winston.format.printf((info) => info.message) // the line is exactly the message
  : winston.format.combine(winston.format.errors({ stack: true }), winston.format.json())
const logger = winston.createLogger({ format, transports: [transport], exitOnError: true })
logger.on('error', () => {})

const count = cfg.lines ? cfg.lines.length : cfg.count
for (let i = 0; i < count; i++) {
  if (cfg.lines) logger.info(cfg.lines[i])
  else logger.info(`line ${i}`, { i, pad: 'x'.repeat(cfg.pad ?? 40) })
}
const endThenExit = (code) => {
  logger.on('finish', () => process.exit(code))
  logger.end()
}
switch (cfg.scenario) {
  case 'normal':
    break
  case 'exit':
    process.exit(0)
    break
  case 'uncaught':
    setImmediate(() => {
      throw new Error('uncaught in the application')
    })
    break
  case 'flush':
    endThenExit(0)
    break
  case 'signal':
    // The documented pattern: end the logger on the signal, exit on 'finish'.
    process.once('SIGTERM', () => endThenExit(143))
    process.once('SIGINT', () => endThenExit(130))
    setInterval(() => {}, 1000)
    process.stdout.write('ready\n')
    break
  default:
    throw new Error(`unknown scenario ${cfg.scenario}`)
}
