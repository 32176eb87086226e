'use strict'
// One process of the stress test: winston with its own ChainlogTransport to
// the shared log, `count` lines {w, i}, then logger.end() and exit on 'finish'.
const winston = require('winston')
const { ChainlogTransport } = require('@chainlog/winston')

const [file, id, count, size] = process.argv.slice(2)
const transport = new ChainlogTransport({ filename: file, ...(size ? { maxSize: size } : {}) })
transport.on('error', (err) => {
  process.stderr.write(`transport error: ${err.message}\n`)
  process.exitCode = 1
})
const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] })
for (let i = 0; i < Number(count); i++) logger.info('stress line from a process', { w: id, i })
logger.on('finish', () => process.exit())
logger.end()
