// A row of bench/pino.bench.mjs: pino-abstract-transport as its README shows
// it, one line per iteration of the source and one core write() per line. It
// measures what @chainlog/pino would cost without handing core all the lines
// it holds in one writeLines() (#18). Not a supported transport.
import { once } from 'node:events'
import build from 'pino-abstract-transport'
import { createChainWriter } from '@chainlog/core'
import { resolveOptions } from '@chainlog/pino'

export default async function perLineDestination(options) {
  const writer = await createChainWriter(resolveOptions(options).writer)
  const stream = build(async (source) => {
    for await (const line of source) if (!writer.write(line)) await once(writer, 'drain')
  }, { parse: 'lines', parseLine: () => ({}), metadata: false, close: (err, cb) => void writer.close().then(() => cb(err), cb) })
  stream.matcher = '\n'
  return stream
}
