// A pipeline stage for pino.transport() (see ../pino-pipeline.mjs): it reads
// pino's lines with pino-abstract-transport, replaces the values of the keys
// it is given with "[redacted]", and passes each line on to the next stage.
// `enablePipelining` makes build() return a stream pino can pipe onwards.
import { pipeline, Transform } from 'node:stream'
import build from 'pino-abstract-transport'

export default async function redact({ keys = [] } = {}) {
  return build(
    (source) => {
      const out = new Transform({
        objectMode: true,
        autoDestroy: true,
        transform(entry, _encoding, callback) {
          for (const key of keys) if (key in entry) entry[key] = '[redacted]'
          callback(null, JSON.stringify(entry) + '\n')
        },
      })
      pipeline(source, out, () => {})
      return out
    },
    { enablePipelining: true },
  )
}
