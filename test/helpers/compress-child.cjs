'use strict'
// A writer that rotates often with compress: true, for the kill -9 test of
// what a dead writer leaves behind.   node compress-child.cjs <file>
const { createChainWriter } = require('@chainlog/core')

;(async () => {
  const w = await createChainWriter({ file: process.argv[2], mkdir: true, size: 64 * 1024, compress: true })
  w.on('error', (err) => process.stderr.write(`writer: ${err.message}\n`))
  process.stdout.write('ready\n')
  for (let i = 0; ; i++) {
    if (!w.write(JSON.stringify({ i, msg: 'the quick brown fox jumps over the lazy dog '.repeat(4) }))) await new Promise((resolve) => w.once('drain', () => resolve()))
    if (i % 500 === 0) await w.flush()
  }
})()
