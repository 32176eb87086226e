/**
 * The reading pass of shipped verification (issue #15): every input line is
 * unwrapped ({@link EnvelopeReader}), each record's own hash is checked (it
 * needs no order), and the record goes into the {@link RecordIndex}. Lines
 * that hold no record, and pieces of records cut by a shipper, are counted
 * and kept aside. Nothing of a record is kept in memory but its index entry;
 * the few lines a report quotes are read again afterwards (shipped-refetch.ts).
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHashFn, isAlgorithm, type Algorithm, type HashFn } from './algorithm'
import { EnvelopeReader, Envelopes, shapeOf, type Envelope, type Extracted } from './envelope'
import { ChainlogError, ErrorCodes } from './errors'
import { isHeader, parseMeta, type Meta, type UnknownMeta } from './meta'
import { isZlibError, openChainFile, readError } from './read'
import { GENESIS, HASH_HEX, unescapeLine } from './record'
import type { BatchHasher } from './hash-path'
import { Flag, keyOf, RecordIndex } from './shipped-index'
import { OffThread } from './shipped-off-thread'

/** One input as read: a file, or stdin kept in a temporary file so that it can be read again. */
export interface ShippedSource {
  /** The name reports give: the path as given, or `-`. */
  name: string
  /** Where its bytes are (for stdin, the temporary copy). */
  file: string
  gz: boolean
  /** Global ordinal of its first line. */
  first: number
  lines: number
  /** Byte offset of line MARK·k (0-based), plain files only: where a re-read starts. */
  marks: number[]
}

/** A piece of a record: its start cut off at a line limit, or the rest of such a line sent on alone. */
export interface Fragment {
  kind: 'cut-start' | 'cut-end'
  ordinal: number
  /** `prev` of a cut start, `hash` of a cut end (first 128 bits). */
  key: Uint32Array
  /** Bytes of the piece, and their SHA-256: a writer's recovery record names a torn line so (FORMAT.md §7). */
  length: number
  sha256: string
}

/** A record that fails on its own: its hash, or its stored line. */
export interface BadRecord {
  index: number
  ordinal: number
  reason: 'HASH_MISMATCH' | 'MALFORMED'
  message: string
}

/** What the reading pass gives the rebuild. */
export interface ReadPass {
  index: RecordIndex
  sources: ShippedSource[]
  /** The algorithms records verified under, by the number the index keeps. */
  algorithms: Algorithm[]
  /** Metadata records by index number. */
  meta: Map<number, Meta | UnknownMeta>
  /** Headers whose `prevHash` is not their own record's `prev`: that `prev`. */
  headerPrevMismatch: Map<number, string>
  fragments: Fragment[]
  bad: BadRecord[]
  lines: number
  /** Lines that hold no record (other programs' lines, envelopes without the member). */
  skipped: number
  envelopes: { [e in Envelope]?: number }
}

/** Options of the reading pass. */
export interface ReadOptions {
  field?: string
  key?: Uint8Array
  /** Threads that check records: 1 keeps to this one; more (the default, with more than one core) hands half of each chunk to another. */
  jobs?: number
  onProgress?: (bytes: number) => void
}

const LF = 0x0a
const PIPE = 0x7c
const BACKSLASH = 0x5c
/** Lines between two re-read marks. */
export const MARK = 1024

/** `buf.toString('latin1', start, end)` without the encoding dispatch (as in run-scan.ts). */
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end)
const GENESIS_BYTES = Buffer.from(GENESIS)

/** The reading pass over every input, in the order given. */
export async function readShipped(inputs: Array<string | NodeJS.ReadableStream>, options: ReadOptions, tmp: () => string): Promise<ReadPass> {
  const pass: ReadPass = { index: new RecordIndex(), sources: [], algorithms: [], meta: new Map(), headerPrevMismatch: new Map(), fragments: [], bad: [], lines: 0, skipped: 0, envelopes: {} }
  const hashers = new Hashers(options.key, pass.algorithms)
  const spill: { deferred: Deferred | null } = { deferred: null }
  /** Where admitRecords gives back its offsets. */
  const state = new Float64Array(2)
  /** With more than one job, the second half of each chunk is checked on another thread. */
  const off = (options.jobs ?? os.availableParallelism()) > 1 ? new OffThread() : null
  let read = 0
  for (const input of inputs) {
    const isStream = typeof input !== 'string'
    const name = isStream ? '-' : input
    const gz = !isStream && input.endsWith('.gz')
    const file = isStream ? path.join(tmp(), 'stdin') : input
    const source: ShippedSource = { name, file, gz, first: pass.lines, lines: 0, marks: [] }
    pass.sources.push(source)
    const reader = new EnvelopeReader(options.field)
    const copy = isStream ? fs.openSync(file, 'w') : -1
    let offset = 0
    let line = 0
    let marked = 0
    /** Line `l` (1-based) starts at `s` of what `take` is given: every MARK-th line's offset is kept, once. */
    const mark = (s: number, l: number) => {
      if (!gz && (l - 1) % MARK === 0 && l > marked) {
        source.marks.push(offset + s)
        marked = l
      }
    }
    /**
     * The verbatim records of `b` from `s` on, many to a call on the native path, written into the index in
     * place (never past a mark line, so that each call's first line is the only one to mark); returns where
     * they end. On the JS path, or at a line that is anything else, it takes none: `take` then has the line.
     */
    const admitRun = (b: Buffer, s: number, end: number): number => {
      const batch = hashers.batch()
      if (batch === undefined) return s
      while (s + HASH_HEX < end && b[s + HASH_HEX] === PIPE) {
        const { keys, ords, words, slot, room } = pass.index.block()
        mark(s, line + 1)
        batch.admitRecords(b, s, end, Math.min(room, MARK - (line % MARK)), keys, ords, words, slot, source.first + line, hashers.current << 8, state)
        const k = state[1]!
        if (k === 0) break
        pass.index.grow(k)
        count(pass, Envelopes.RECORD, k)
        line += k
        s = state[0]!
      }
      return s
    }
    const take = (b: Buffer, s: number, e: number, line: number) => {
      mark(s, line)
      const ordinal = source.first + line - 1
      // A record no native run took (metadata, an escaped line, another algorithm's, a fault; every record on
      // the JS path) is checked by admit().
      if (e - s >= 2 * HASH_HEX + 2 && b[s + HASH_HEX] === PIPE && b[e - HASH_HEX - 1] === PIPE && pass.index.parse(b, s, e - HASH_HEX)) {
        count(pass, Envelopes.RECORD)
        admit(b, s, e, ordinal)
        return
      }
      handle(reader.read(b.toString('utf8', s, e), line), source.first)
    }
    const handle = (x: Extracted, first: number) => {
      if (x.kind === 'partial') return
      if (x.kind === 'none') {
        if (x.envelope) count(pass, x.envelope)
        pass.skipped++
        return
      }
      count(pass, x.envelope)
      const ordinal = first + x.line - 1
      const b = Buffer.from(x.text)
      const shape = shapeOf(x.text)
      if (shape === 'record') {
        // shapeOf() checked both fields: the keys always parse.
        pass.index.parse(b, 0, b.length - HASH_HEX)
        admit(b, 0, b.length, ordinal)
      } else if (shape === 'other') pass.skipped++
      else {
        const at = shape === 'cut-start' ? 0 : b.length - HASH_HEX
        pass.fragments.push({ kind: shape, ordinal, key: keyOf(b.toString('latin1', at, at + HASH_HEX)), length: b.length, sha256: crypto.createHash('sha256').update(b).digest('hex') })
      }
    }
    const admit = (b: Buffer, s: number, e: number, ordinal: number) => {
      let flags = isGenesis(b, s) ? Flag.GENESIS : 0
      let meta: Meta | UnknownMeta | null = null
      let malformed: string | null = null
      if (b[s + HASH_HEX + 1] === BACKSLASH) {
        const stored = b.toString('utf8', s + HASH_HEX + 1, e - HASH_HEX - 1)
        if (stored.startsWith('\\m')) {
          meta = parseMeta(stored)
          if (meta) flags |= Flag.META
          else malformed = 'the metadata record does not hold a JSON object with a string t'
        } else if (stored.startsWith('\\e')) {
          try {
            unescapeLine(stored)
          } catch (err) {
            malformed = (err as Error).message
          }
        } else malformed = 'a stored line that starts with \\ must be \\e (escaped) or \\m (metadata)'
      }
      const found = latin1(b, e - HASH_HEX, e)
      // A plain Uint8Array over the line costs half what subarray() does (as in run-scan.ts).
      const body = new Uint8Array(b.buffer, b.byteOffset + s, e - HASH_HEX - 1 - s)
      const alg = hashers.match(body, found, meta)
      if (alg === -1 && malformed === null) {
        spill.deferred ??= new Deferred(path.join(tmp(), 'deferred'))
        spill.deferred.add(b.subarray(s, e), ordinal)
        return
      }
      if (malformed !== null) flags |= Flag.BAD
      const i = pass.index.add(ordinal, flags, Math.max(alg, 0))
      if (malformed !== null) pass.bad.push({ index: i, ordinal, reason: 'MALFORMED', message: malformed })
      if (meta) note(i, meta, b.toString('latin1', s, s + HASH_HEX))
    }
    const note = (i: number, meta: Meta | UnknownMeta, prev: string) => {
      pass.meta.set(i, meta)
      if (isHeader(meta) && meta.prevHash !== prev) pass.headerPrevMismatch.set(i, prev)
    }
    try {
      const chunks = isStream ? (input as AsyncIterable<Buffer>) : openChainFile(input, gz, { highWaterMark: 1 << 20 })
      let rest: Buffer | null = null
      // `offset` is the input's byte offset of what `take` is given (take marks lines by it).
      for await (const raw of chunks) {
        const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw
        if (copy !== -1) fs.writeSync(copy, chunk)
        read += chunk.length
        options.onProgress?.(read)
        let s = 0
        if (rest) {
          // Only the line that spans two chunks is joined: joining whole chunks would copy the input once more.
          const e = chunk.indexOf(LF)
          if (e === -1) {
            rest = Buffer.concat([rest, chunk])
            if (rest.length > 64 * 1024 * 1024) throw new ChainlogError(ErrorCodes.IO_ERROR, `${name}: a line longer than 64 MiB; this is not a log export`, { path: name })
            continue
          }
          // With its LF, so that the line can take the native path too.
          const joined = Buffer.concat([rest, chunk.subarray(0, e + 1)])
          if (admitRun(joined, 0, joined.length) === 0) take(joined, 0, rest.length + e, ++line)
          offset += rest.length
          s = e + 1
        }
        // The whole lines from s, to `end`: records many to a native call, anything else one at a time.
        const lines = (end: number) => {
          for (;;) {
            s = admitRun(chunk, s, end)
            const e = chunk.indexOf(LF, s)
            if (e === -1 || e >= end) break
            take(chunk, s, e, ++line)
            s = e + 1
          }
        }
        const whole = chunk.lastIndexOf(LF) + 1
        const mid = off ? off.start(hashers.batch(), chunk, s, whole, hashers.current << 8) : whole
        lines(mid)
        if (mid < whole) {
          // The second half, checked meanwhile on another thread, up to where it stopped; this thread goes on from there.
          const { records, end } = await off!.finish(pass.index, source.first + line, line, MARK, mark)
          count(pass, Envelopes.RECORD, records)
          line += records
          s = end
        }
        lines(chunk.length)
        offset += s
        rest = s < chunk.length ? chunk.subarray(s) : null
      }
      if (rest) take(rest, 0, rest.length, ++line)
      for (const x of reader.end()) handle(x, source.first)
      source.lines = line
      pass.lines += line
      if (pass.lines > 0xffffffff) throw new ChainlogError(ErrorCodes.IO_ERROR, 'more than 4,294,967,295 lines in one verification')
    } catch (err) {
      if (err instanceof ChainlogError) throw err
      if (isZlibError(err)) throw new ChainlogError(ErrorCodes.IO_ERROR, `${name}: the compressed data is damaged or cut short`, { cause: err, path: name })
      throw readError(name, err)
    } finally {
      if (copy !== -1) fs.closeSync(copy)
    }
  }
  if (spill.deferred) {
    // Records that verified under no algorithm seen when they came: try again with every one the
    // headers declare; what still fails is an altered record.
    for (const { b, ordinal } of spill.deferred.drain()) {
      const meta = b[HASH_HEX + 1] === BACKSLASH ? parseMeta(b.toString('utf8', HASH_HEX + 1, b.length - HASH_HEX - 1)) : null
      const alg = hashers.match(b.subarray(0, b.length - HASH_HEX - 1), b.toString('latin1', b.length - HASH_HEX), null)
      const flags = (isGenesis(b, 0) ? Flag.GENESIS : 0) | (meta ? Flag.META : 0) | (alg === -1 ? Flag.BAD : 0)
      pass.index.parse(b, 0, b.length - HASH_HEX)
      const i = pass.index.add(ordinal, flags, Math.max(alg, 0))
      if (alg === -1) pass.bad.push({ index: i, ordinal, reason: 'HASH_MISMATCH', message: `the hash field is not the ${hashers.names()} of the line: the line or its prev was changed` })
      if (meta) {
        pass.meta.set(i, meta)
        const prev = b.toString('latin1', 0, HASH_HEX)
        if (isHeader(meta) && meta.prevHash !== prev) pass.headerPrevMismatch.set(i, prev)
      }
    }
  }
  return pass
}

/** Whether the record at `s` of `b` starts with the GENESIS value as its prev. */
function isGenesis(b: Buffer, s: number): boolean {
  return b[s] === 0x30 && b.compare(GENESIS_BYTES, 0, HASH_HEX, s, s + HASH_HEX) === 0
}

function count(pass: ReadPass, e: Envelope, k = 1): void {
  pass.envelopes[e] = (pass.envelopes[e] ?? 0) + k
}

/**
 * The hash functions records are checked with. A record is tried first under
 * the algorithm of the last header seen (sha256 before any; hmac-sha256 when
 * a key is given), then under the others seen so far.
 */
class Hashers {
  private readonly fns: HashFn[] = []
  /** The number of the algorithm tried first. */
  current = 0

  constructor(
    private readonly key: Uint8Array | undefined,
    private readonly algorithms: Algorithm[],
  ) {
    this.use(key ? 'hmac-sha256' : 'sha256')
  }

  private use(alg: Algorithm): number {
    let n = this.algorithms.indexOf(alg)
    if (n === -1) {
      n = this.algorithms.push(alg) - 1
      this.fns.push(createHashFn(alg, this.key ? { key: this.key } : {}))
    }
    return n
  }

  /** The current algorithm's batch hasher on the native path (hash-path.ts), or undefined. */
  batch(): BatchHasher | undefined {
    return this.fns[this.current]!.batch
  }

  /** The number of the algorithm under which `body` hashes to `found`, or -1. A header switches the first one tried. */
  match(body: Uint8Array, found: string, meta: Meta | UnknownMeta | null): number {
    if (isHeader(meta) && isAlgorithm(meta.alg) && (meta.alg !== 'hmac-sha256' || this.key)) this.current = this.use(meta.alg)
    if (this.fns[this.current]!(body) === found) return this.current
    for (let n = 0; n < this.fns.length; n++) if (n !== this.current && this.fns[n]!(body) === found) return n
    return -1
  }

  names(): string {
    return this.algorithms.join(' or ')
  }
}

/** Records kept on disk until every header has been seen. */
class Deferred {
  private readonly fd: number
  private readonly ordinals: number[] = []

  constructor(private readonly file: string) {
    this.fd = fs.openSync(file, 'w+')
  }

  add(record: Uint8Array, ordinal: number): void {
    fs.writeSync(this.fd, record)
    fs.writeSync(this.fd, '\n')
    this.ordinals.push(ordinal)
  }

  *drain(): Generator<{ b: Buffer; ordinal: number }> {
    fs.closeSync(this.fd)
    const data = fs.readFileSync(this.file)
    let s = 0
    for (const ordinal of this.ordinals) {
      const e = data.indexOf(LF, s)
      yield { b: data.subarray(s, e), ordinal }
      s = e + 1
    }
  }
}

/** A temporary directory for stdin's copy and deferred records, made on first use. */
export function tempDir(): { get: () => string; remove: () => void } {
  let dir: string | null = null
  return {
    get: () => (dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-shipped-'))),
    remove: () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
