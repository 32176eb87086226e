'use strict'
// One process of the several-writers seal test: winston with its own
// ChainlogTransport and sealKey to the shared log, `count` lines {w, i} with a
// pause every `burst` lines, then logger.end() and exit once 'finish' says the
// closing seal is written.
const winston = require('winston')
const { ChainlogTransport } = require('@chainlog/winston')

const { file, id, count, burst, pauseMs, options } = JSON.parse(process.env.CHAINLOG_SEAL_CHILD)
const transport = new ChainlogTransport({ filename: file, ...options })
transport.on('error', (err) => {
  process.stderr.write(`transport error: ${err.message}\n`)
  process.exitCode = 1
})
const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] })

async function main () {
  for (let i = 0; i < count; i++) {
    logger.info('sealed line from a process', { w: id, i })
    if ((i + 1) % burst === 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  transport.on('finish', () => process.exit())
  logger.end()
}
main()
