/**
 * Where the chain comes from: paths (files, directories, base paths, verified
 * in parallel) or `-` (stdin, verified as it arrives; gzip is recognised by
 * its magic bytes).
 */
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { verify, type VerifyOptions, type VerifyReport } from '@chainlog/core'

/** Verifies `input` (paths, or `-` for stdin). With `onLine` the chain is read in order in this thread. */
export function verifyInput(input: string[] | '-', options: VerifyOptions): Promise<VerifyReport> {
  return verify(input === '-' ? stdin() : input, options)
}

/** stdin as a stream of bytes, decompressed when it starts with the gzip magic bytes. */
export function stdin(source: NodeJS.ReadableStream = process.stdin): NodeJS.ReadableStream {
  return Readable.from(chunks(source))
}

async function* chunks(source: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const it = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value
  const rest = { [Symbol.asyncIterator]: () => it }
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield head
    for await (const chunk of rest) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    return
  }
  const gunzip = createGunzip()
  ;(async () => {
    gunzip.write(head)
    for await (const chunk of rest) {
      if (!gunzip.write(chunk)) await new Promise((resolve) => gunzip.once('drain', resolve))
    }
    gunzip.end()
  })().catch((err: Error) => gunzip.destroy(err))
  yield* gunzip as AsyncIterable<Buffer>
}
