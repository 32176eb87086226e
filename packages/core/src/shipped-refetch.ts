/**
 * Reading again, after the reading pass of shipped verification (issue #15),
 * the few lines a report quotes or orders by: the pass keeps no record text,
 * only where every MARK-th line of a plain input starts ({@link ShippedSource}).
 */
import * as fs from 'node:fs'
import { EnvelopeReader, type Extracted } from './envelope'
import { openChainFile } from './read'
import { MARK, type ShippedSource } from './shipped-read'

const LF = 0x0a

/** Which source a global line ordinal is in, and its 1-based line there. */
export function placeOf(sources: ShippedSource[], ordinal: number): { source: ShippedSource; line: number } {
  let lo = 0
  let hi = sources.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (sources[mid]!.first <= ordinal) lo = mid
    else hi = mid - 1
  }
  const source = sources[lo]!
  return { source, line: ordinal - source.first + 1 }
}

/**
 * The record text (unwrapped, joined) that starts at each of `ordinals`,
 * read again from the inputs: plain files from the nearest mark, gzipped ones
 * from their start.
 */
export async function fetchLines(sources: ShippedSource[], ordinals: Iterable<number>, field: string | undefined): Promise<Map<number, string>> {
  const want = new Map<ShippedSource, number[]>()
  for (const o of new Set(ordinals)) {
    const { source, line } = placeOf(sources, o)
    if (!want.has(source)) want.set(source, [])
    want.get(source)!.push(line)
  }
  const out = new Map<number, string>()
  for (const [source, lines] of want) {
    lines.sort((a, b) => a - b)
    if (source.gz) await scan(source, 0, 1, lines, field, out)
    else {
      for (const line of lines) {
        if (out.has(source.first + line - 1)) continue
        const k = Math.floor((line - 1) / MARK)
        await scan(source, source.marks[k]!, k * MARK + 1, [line], field, out)
      }
    }
  }
  return out
}

async function scan(source: ShippedSource, start: number, firstLine: number, lines: number[], field: string | undefined, out: Map<number, string>): Promise<void> {
  const wanted = new Set(lines)
  const last = lines.at(-1)!
  let reader: EnvelopeReader | null = null
  let line = firstLine - 1
  let rest: Buffer | null = null
  const opened = source.gz ? openChainFile(source.file, true) : { [Symbol.asyncIterator]: () => fs.createReadStream(source.file, { start, highWaterMark: 1 << 18 })[Symbol.asyncIterator](), close() {} }
  const give = (x: Extracted) => {
    if (x.kind === 'text' && wanted.has(x.line)) {
      out.set(source.first + x.line - 1, x.text)
      wanted.delete(x.line)
    }
  }
  try {
    for await (const chunk of opened as AsyncIterable<Buffer>) {
      const b: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk
      let s = 0
      for (let e = b.indexOf(LF); e !== -1; e = b.indexOf(LF, s)) {
        line++
        // A joined record starts at its first piece: read from the first line wanted on.
        if (reader === null && wanted.has(line)) reader = new EnvelopeReader(field)
        if (reader) give(reader.read(b.toString('utf8', s, e), line))
        s = e + 1
        if (wanted.size === 0) return
      }
      rest = s < b.length ? b.subarray(s) : null
      if (line > last + MARK * 64) break
    }
    if (rest && reader) give(reader.read(rest.toString('utf8'), ++line))
    if (reader) for (const x of reader.end()) give(x)
  } finally {
    opened.close()
  }
}
