'use strict'
// The slow end of a pipe: reads its standard input in small pieces, sleeping
// `delay` ms after each, and appends what it read to the file argv[2].
const fs = require('node:fs')
const out = fs.openSync(process.argv[2], 'a')
const delay = Number(process.argv[3] ?? 2)
const buf = Buffer.alloc(Number(process.argv[4] ?? 1024))
const nap = new Int32Array(new SharedArrayBuffer(4))
for (;;) {
  let n
  try {
    n = fs.readSync(0, buf, 0, buf.length, null)
  } catch (err) {
    if (err.code === 'EAGAIN') {
      Atomics.wait(nap, 0, 0, 1)
      continue
    }
    throw err
  }
  if (n === 0) break
  fs.writeSync(out, buf, 0, n)
  Atomics.wait(nap, 0, 0, delay)
}
