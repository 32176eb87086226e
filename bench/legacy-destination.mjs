// The "before" row of bench/pino.bench.mjs: the hand-written Writable that
// @chainlog/pino used until #18 (cutting lines itself, whole chunks to core),
// kept here only to measure the transport built on pino-abstract-transport
// against it in the same run. Not a supported transport.
import { Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { createChainWriter, ErrorCodes } from '@chainlog/core'
import { resolveOptions } from '@chainlog/pino'

export default async function legacyDestination(options) {
  const writer = await createChainWriter(resolveOptions(options).writer)
  const decoder = new StringDecoder('utf8')
  let rest = ''
  let stalled = false
  writer.on('error', () => (stalled = true))
  writer.on('drain', () => (stalled = false))
  const tail = () => {
    const t = rest + decoder.end()
    rest = ''
    if (t !== '') writer.write(t)
  }
  return new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
      if (rest !== '') {
        text = rest + text
        rest = ''
      }
      const end = text.lastIndexOf('\n') + 1
      let ok = true
      try {
        if (end > 0) ok = writer.writeLines(end === text.length ? text : text.slice(0, end))
      } catch (err) {
        if (err.code !== ErrorCodes.BUFFER_FULL) return callback(err)
      }
      if (end < text.length) rest = text.slice(end)
      if (ok || stalled) return callback()
      writer.once('drain', () => callback())
    },
    final(callback) {
      tail()
      writer.close().then(() => callback(), callback)
    },
  })
}
