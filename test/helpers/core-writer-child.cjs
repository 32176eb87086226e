'use strict'
// A writer process or worker thread for the multi-writer and crash tests.
//   node core-writer-child.cjs <file> <writerId> <lines> [size] [ackEvery]
// Writes `lines` JSON lines {w, i} through its own ChainWriter. With ackEvery,
// it flushes every ackEvery lines and prints "ack <i>" once the flush resolved:
// the crash test checks every acknowledged line survives a SIGKILL.
const { isMainThread, workerData, parentPort } = require('node:worker_threads')
const { createChainWriter } = require('@chainlog/core')

async function run([file, id, lines, size, ackEvery]) {
  const w = await createChainWriter({ file, mkdir: true, ...(size ? { size } : {}) })
  w.on('error', (err) => process.stderr.write(`writer ${id}: ${err.message}\n`))
  const every = Number(ackEvery) || 0
  for (let i = 0; i < Number(lines); i++) {
    const ok = w.write(JSON.stringify({ w: id, i, msg: 'the quick brown fox jumps over the lazy dog '.repeat(2) }))
    if (every && (i + 1) % every === 0) {
      await w.flush()
      process.stdout.write(`ack ${i}\n`)
    } else if (!ok) await new Promise((resolve) => w.once('drain', resolve))
  }
  await w.close()
}

if (isMainThread) run(process.argv.slice(2)).catch((err) => { console.error(err); process.exit(1) })
else run(workerData).then(() => parentPort.postMessage('done'))
