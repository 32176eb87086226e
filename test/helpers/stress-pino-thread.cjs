'use strict'
// One worker thread of the stress test: its own pino.transport to the shared
// log, `count` lines {w, i}, then it ends the transport and waits for it to
// close (the file is closed and every line handed to the OS).
const { workerData, parentPort } = require('node:worker_threads')
const pino = require('pino')

const { file, id, count, size } = workerData
const transport = pino.transport({ target: '@chainlog/pino', options: { file, mkdir: true, ...(size ? { size } : {}) } })
transport.on('error', (err) => parentPort.postMessage({ error: err.message }))
const logger = pino(transport)
for (let i = 0; i < count; i++) logger.info({ w: id, i }, 'stress line from a worker thread')
// thread-stream's worker does not keep this thread alive: hold it open until
// the transport reports its file closed.
const keepAlive = setInterval(() => {}, 1000)
transport.once('close', () => {
  clearInterval(keepAlive)
  parentPort.postMessage({ done: true })
})
// Flush first, then end: thread-stream's end() gives up after ten waits on the
// worker (about 10 s on a loaded machine for 50,000 lines queued at once),
// while flush(cb) waits for the worker to take every line, however long that is.
logger.flush((err) => {
  if (err) parentPort.postMessage({ error: err.message })
  else transport.end()
})
