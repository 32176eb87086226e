// A row of bench/pino.bench.mjs: pino-abstract-transport cutting one item per
// line (split2 at every LF), the lines it has buffered read one by one and
// joined for one core writeLines() call. @chainlog/pino lets split2 cut each
// chunk at its last LF instead, one item per run of lines (#18); this row
// measures the difference. Not a supported transport.
import { once } from 'node:events'
import build from 'pino-abstract-transport'
import { createChainWriter } from '@chainlog/core'
import { resolveOptions } from '@chainlog/pino'

export default async function joinedDestination(options) {
  const writer = await createChainWriter(resolveOptions(options).writer)
  let waiting = false
  const feed = () => {
    if (waiting) return
    const lines = []
    for (let line = stream.read(); line !== null; line = stream.read()) lines.push(line)
    if (lines.length > 0 && !writer.writeLines(lines.join('\n') + '\n')) waiting = true
  }
  writer.on('drain', () => ((waiting = false), feed()))
  const stream = build((source) => void source.on('readable', feed), {
    parse: 'lines', parseLine: () => ({}), metadata: false, close: (err, cb) => void writer.close().then(() => cb(err), cb),
  })
  stream.matcher = '\n'
  return stream
}
