'use strict'
// One worker thread of the several-writers seal test: its own pino.transport
// with sealKey to the shared log, `count` lines {w, i} with a pause every
// `burst` lines, then it ends the transport and waits for its closing seal.
const { workerData, parentPort } = require('node:worker_threads')
const pino = require('pino')

const { file, id, count, burst, pauseMs, options } = workerData
const transport = pino.transport({ target: '@chainlog/pino', options: { file, mkdir: true, ...options } })
transport.on('error', (err) => parentPort.postMessage({ error: err.message }))
const logger = pino(transport)
const keepAlive = setInterval(() => {}, 1000)

async function main () {
  for (let i = 0; i < count; i++) {
    logger.info({ w: id, i }, 'sealed line from a worker thread')
    if ((i + 1) % burst === 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  transport.once('close', () => {
    clearInterval(keepAlive)
    parentPort.postMessage({ done: true })
  })
  transport.end()
}
main()
