#!/usr/bin/env node
// An HTTP service (fastify) whose built-in pino logger writes every request to
// a hash-chained log through @chainlog/pino. On SIGTERM (docker stop,
// Kubernetes) or Ctrl-C it stops accepting connections, lets requests in
// flight finish, hands every log line to the OS, verifies the log, and exits.
//
//   node examples/http-service.mjs [out-dir]     (logs go to <out-dir>/http-service, default examples/out)
//   curl -s localhost:3000/orders/1; curl -s -X POST localhost:3000/orders -H 'content-type: application/json' -d '{"item":"tea"}'
//   then Ctrl-C (or kill -TERM <pid>)
//
// PORT (default 3000) and HOST (default 127.0.0.1) choose the address; PORT=0 takes a free port.
// Exit status: 128 + the signal number (143 for SIGTERM, 130 for Ctrl-C) if the log verifies, 1 if not.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { exitOnSignals } from '@chainlog/pino'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'http-service')
fs.rmSync(dir, { recursive: true, force: true })
const file = path.join(dir, 'app.log')

const app = Fastify({
  // fastify's own pino logger, with @chainlog/pino as its transport.
  logger: { level: 'info', transport: { target: '@chainlog/pino', options: { file, size: '10m', mkdir: true } } },
  // Use the caller's request id when there is one: it is in every line of that request.
  requestIdHeader: 'x-request-id',
})

const orders = new Map([[1, { id: 1, item: 'coffee', qty: 2 }]])
app.get('/health', async () => ({ ok: true }))
app.get('/orders/:id', async (request, reply) => {
  const order = orders.get(Number(request.params.id))
  if (!order) return reply.code(404).send({ error: 'no such order' })
  return order
})
// A slow request (a report that takes a second): a SIGTERM meanwhile waits for it.
app.get('/reports/daily', async (request) => {
  await new Promise((resolve) => setTimeout(resolve, 1000))
  request.log.info({ orders: orders.size }, 'daily report built')
  return { orders: orders.size }
})
app.post('/orders', async (request, reply) => {
  const order = { id: orders.size + 1, item: String(request.body?.item ?? 'unknown'), qty: Number(request.body?.qty ?? 1) }
  orders.set(order.id, order)
  request.log.info({ order }, 'order created')
  return reply.code(201).send(order)
})

// On SIGTERM or SIGINT, exitOnSignals runs the application's own shutdown
// first (`close`: fastify stops accepting connections and lets requests in
// flight finish and log), then flushes the log and exits with 128 + the
// signal number; pino then ends the transport, which closes the file.
exitOnSignals(app.log, {
  close: async () => {
    console.log('signal received: closing the server and flushing the log')
    await app.close()
    app.log.info('server closed')
    // An application would stop here. This example also checks its own log
    // before it exits, so it flushes it now (exitOnSignals' flush then finds nothing left).
    await new Promise((resolve, reject) => app.log.flush((err) => (err ? reject(err) : resolve())))
    const check = spawnSync('npx', ['--no-install', 'verify-log', file], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] })
    if (check.status !== 0) process.exit(1)
  },
})

const address = await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
console.log(`listening on ${address}, logging to ${file} (pid ${process.pid})`)
