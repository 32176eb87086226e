#!/usr/bin/env node
// Several worker threads, each with its own pino logger and its own
// @chainlog/pino transport, all logging to the same file: they append under
// one lock, so the result is one chain, never a fork. `verify-log` checks it,
// and `chainlog extract` shows every thread's lines are there, in order.
//
//   node examples/worker-threads.mjs [out-dir]   (logs go to <out-dir>/worker-threads, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread, threadId, Worker, workerData } from 'node:worker_threads'
import pino from 'pino'

const THREADS = 4
const LINES = 250

if (!isMainThread) {
  // A worker: log LINES lines, pausing now and then as real work would, so the threads interleave.
  const transport = pino.transport({ target: '@chainlog/pino', options: { file: workerData.file } })
  await once(transport, 'ready')
  const logger = pino(transport).child({ thread: threadId })
  for (let seq = 1; seq <= LINES; seq++) {
    logger.info({ seq }, 'task step')
    if (seq % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
  }
  // Wait until the transport has written everything and closed the file (ref(): see pino-basic.mjs).
  transport.ref()
  transport.end()
  await once(transport, 'close')
} else {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'worker-threads')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'app.log')

  console.log(`${THREADS} threads logging ${LINES} lines each to ${file}`)
  const workers = Array.from({ length: THREADS }, () => new Worker(fileURLToPath(import.meta.url), { workerData: { file } }))
  const codes = await Promise.all(workers.map((w) => once(w, 'exit').then(([code]) => code)))
  if (codes.some((c) => c !== 0)) {
    console.error(`a worker failed (exit codes ${codes.join(', ')})`)
    process.exit(1)
  }
  console.log('all threads done\n')

  const check = spawnSync('npx', ['--no-install', 'verify-log', file], { cwd: here, stdio: 'inherit' })
  if (check.status !== 0) process.exit(check.status ?? 1)

  // The verified lines, in chain order: each thread's own order must be kept.
  const extract = spawnSync('npx', ['--no-install', 'chainlog', 'extract', file], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (extract.status !== 0) process.exit(extract.status ?? 1)
  const lines = extract.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const seen = new Map()
  let switches = 0
  let ok = true
  lines.forEach((line, i) => {
    const last = seen.get(line.thread) ?? 0
    if (line.seq !== last + 1) ok = false
    seen.set(line.thread, line.seq)
    if (i > 0 && lines[i - 1].thread !== line.thread) switches++
  })
  console.log('')
  for (const [thread, last] of [...seen].sort((a, b) => a[0] - b[0])) console.log(`thread ${thread}: ${last} lines, in order`)
  console.log(`${lines.length} lines in one chain; the threads took turns ${switches} times`)
  if (!ok || seen.size !== THREADS || [...seen.values()].some((n) => n !== LINES)) {
    console.error(`some thread's lines are missing or out of order: ${JSON.stringify(Object.fromEntries(seen))}`)
    process.exit(1)
  }
}
