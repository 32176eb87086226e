#!/usr/bin/env node
// Many writers, one chain: total throughput of 8 worker threads appending to
// one log (each with its own ChainWriter, serialized by the log lock), next to
// a single writer, with the same records in the same run.
//
// Each thread has its own V8 isolate, which compiles the write path for itself:
// 8 threads of 25,000 lines spend much of their time before it is optimized, where
// one thread of 200,000 does not. A service's threads log for hours, so the target
// rows warm every thread first (one writer as much as eight), with WARM_LINES to a
// chain of its own; the rows from cold threads are printed beside them.
//   node bench/multiwriter.bench.mjs [records]
import { createRequire } from 'node:module'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { hashPaths, median, pairedRatio } from './lib.mjs'

const require = createRequire(import.meta.url)
const { createChainWriter, verify } = require('@chainlog/core')
const LINE = (w, i) => JSON.stringify({ level: 30, time: 1795341600000 + i, pid: 4242, hostname: 'bench', w, i, msg: 'request completed' })

async function writeLines(writer, id, count) {
  for (let i = 0; i < count; i++) {
    if (!writer.write(LINE(id, i))) await new Promise((resolve) => writer.once('drain', resolve))
  }
  await writer.close()
}

/** Lines each thread writes to a chain of its own before the timed run, when warmed. */
const WARM_LINES = 20_000

if (!isMainThread) {
  const { file, id, count, start, warm } = workerData
  if (warm) await writeLines(await createChainWriter({ file: path.join(path.dirname(file), 'warm', `${id}.log`), mkdir: true }), id, WARM_LINES)
  const writer = await createChainWriter({ file })
  parentPort.postMessage('ready')
  // Start together: wait for the shared start signal.
  Atomics.wait(start, 0, 0)
  await writeLines(writer, id, count)
  parentPort.postMessage('done')
}

async function run(threads, total, env, warm) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-mw-'))
  const file = path.join(dir, 'app.log')
  const start = new Int32Array(new SharedArrayBuffer(4))
  const per = Math.floor(total / threads)
  const workers = Array.from({ length: threads }, (_, k) => new Worker(fileURLToPath(import.meta.url), { workerData: { file, id: `w${k}`, count: per, start, warm }, env: { ...process.env, ...env } }))
  const message = (w, m) => new Promise((resolve, reject) => { w.on('message', (x) => x === m && resolve()); w.once('error', reject) })
  const done = workers.map((w) => message(w, 'done'))
  await Promise.all(workers.map((w) => message(w, 'ready'))) // loaded, writer open
  const t0 = process.hrtime.bigint()
  Atomics.store(start, 0, 1)
  Atomics.notify(start, 0)
  await Promise.all(done)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const report = await verify(file)
  fs.rmSync(dir, { recursive: true, force: true })
  if (!report.ok || report.records !== per * threads + 1) throw new Error(`chain check failed: ok=${report.ok} records=${report.records}`)
  return per * threads / seconds
}

/** Rows for bench/run.mjs: median over `runs` of 1 writer and of 8 writer threads, warmed (the target) and cold. */
export async function bench({ records = 200_000, runs = 1 } = {}) {
  const rows = []
  // Each hash path of #17 (native where it is built, and the JS fallback).
  for (const { suffix, env } of hashPaths()) {
    for (const warm of [true, false]) {
      const single = []
      const eight = []
      for (let r = 0; r < runs; r++) {
        single.push(await run(1, records, env, warm))
        eight.push(await run(8, records, env, warm))
      }
      const one = median(single)
      const many = median(eight)
      const threads = warm ? 'warmed' : 'cold'
      rows.push(
        { group: 'many writers', name: `1 writer thread, ${threads}${suffix}`, linesPerSec: one, peer: null, ratio: null },
        // The ratio of each run's 8 threads to the one writer just before it (lib.mjs pairedRatio).
        { group: 'many writers', name: `8 writer threads, one chain, ${threads}${suffix}`, linesPerSec: many, peer: `1 writer thread, ${threads}${suffix}`, ...pairedRatio(eight, single), ...(warm && { target: 0.6 }) },
      )
    }
  }
  return rows
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const records = Number(process.argv[2] ?? 200_000)
  const rows = await bench({ records, runs: 3 })
  console.log(`many writers, ${records} records of ~${LINE('w0', 0).length} bytes, median of 3 (chain verified after each run)`)
  for (const r of rows) console.log(`${r.name.padEnd(32)} ${Math.round(r.linesPerSec).toLocaleString('en-US').padStart(10)} lines/s${r.ratio ? `   ${r.ratio.toFixed(2)}x ${r.peer}${r.target ? ` (target >= ${r.target}x)` : ''}` : ''}`)
}
