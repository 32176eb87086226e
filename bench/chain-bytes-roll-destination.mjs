// A row of bench/pino.bench.mjs: pino-roll writing as many bytes as a chain
// holds for the same lines (each line 130 bytes longer: `prev|`, `|hash`), with
// no hashing at all. A chained file is about twice pino-roll's, and where
// writing fresh pages to the page cache is slow, those bytes cost time that no
// hashing path can win back: this row is what writing them costs in the same
// run. Not a supported transport.
import { RECORD_OVERHEAD } from '@chainlog/core/format'
import pinoRoll from 'pino-roll'

/** Bytes a record adds to a line that has its LF already: prev, hash and two separators (docs/FORMAT.md). */
const ADDED = RECORD_OVERHEAD - 1
const PAD = 'f'.repeat(ADDED * 4096)

/** The number of LFs in `text`. */
function lines(text) {
  let n = 0
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n++
  return n
}

export default async function chainBytesRoll(options) {
  const destination = await pinoRoll(options)
  const write = destination.write.bind(destination)
  destination.write = (chunk) => {
    const text = String(chunk)
    let pad = ADDED * lines(text)
    let out = text
    for (; pad > PAD.length; pad -= PAD.length) out += PAD
    return write(out + PAD.slice(0, pad))
  }
  return destination
}
