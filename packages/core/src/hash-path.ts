/**
 * The hash path: which code hashes whole batches of records (#17). Where the
 * optional package `@chainlog/native` was built at install, a writer's batch
 * and a verifier's run cost one call into it, which hashes every record with
 * the OpenSSL that Node carries. Where it was not (no compiler), or when
 * `CHAINLOG_HASH_PATH=js`, nothing changes: each record goes through
 * `crypto.hash()` as before. Both paths produce the same bytes and the same
 * verdicts; the tests run the format's vectors, fixtures, tamper and fuzz
 * suites on each.
 *
 * `CHAINLOG_HASH_PATH` is read each time a hash function is made (a writer
 * opens, a verifier meets a header, a worker starts a segment): unset or `auto` takes the
 * addon if it loads, `js` never loads it, `native` requires it (opening a
 * writer or verifying fails with INVALID_OPTION where it is missing, so a
 * test or a deployment that counts on it cannot silently run without it).
 */
import { debuglog } from 'node:util'
import { invalidOption } from './errors'

/** Which code hashes batches of records. */
export type HashPath = 'native' | 'js'

/** The addon's exports (packages/native/index.d.ts); declared here because the package is optional. */
interface NativeAddon {
  createHasher(alg: 1 | 2, key?: Uint8Array): object
  encodeLines(h: object, src: Uint8Array, pos: number, srcEnd: number, out: Uint8Array, off: number, bound: number, limit: number, prev: string, state: Float64Array): number
  chainRecords(h: object, out: Uint8Array, start: number, ends: Float64Array, count: number, prev: string): number
  scanRecords(h: object, buf: Uint8Array, start: number, limit: number, expected: string, watch: string | null, state: Float64Array): void
  admitRecords(h: object, buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, ords: Uint32Array, words: Uint32Array, slot: number, ordinal: number, word: number, state: Float64Array): void
  admitRecordsAsync(h: object, buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, words: Uint32Array, starts: Uint32Array, word: number): Promise<number[]>
  opensslVersion(): string
  extendTree(buf: Uint8Array, start: number, end: number, range: Uint8Array, state: Float64Array): void
  linkRecords(keyChunks: Uint32Array[], wordChunks: Uint32Array[], count: number, succ: Int32Array): { forks: Int32Array; many: Uint32Array }
  followSpans(succ: Int32Array, starts: Int32Array, length: Int32Array, last: Int32Array, to: Int32Array, visits: Int32Array): number
}

/**
 * One algorithm and key on the native path: the writer's and the verifier's
 * loops over a whole batch (packages/native/src/chainlog_native.c documents
 * each). `state` is where offsets come back, reused by the caller.
 * @internal
 */
export interface BatchHasher {
  /** Encodes LF-terminated verbatim lines as records chained after `prev`; returns how many. state: [next pos, end in out]. */
  encodeLines(src: Uint8Array, pos: number, srcEnd: number, out: Uint8Array, off: number, bound: number, limit: number, prev: string, state: Float64Array): number
  /** Fills the prev and hash fields of `count` records laid out from out[start], record i ending at ends[i]. */
  chainRecords(out: Uint8Array, start: number, ends: Float64Array, count: number, prev: string): number
  /** A verifier's run of verbatim user records. state: [end, count, firstStart, firstEnd, lastStart, lastEnd, watchAt]. */
  scanRecords(buf: Uint8Array, start: number, limit: number, expected: string, watch: string | null, state: Float64Array): void
  /**
   * Shipped records, each checked alone (no link judged): up to `max` verbatim user records of `buf` from `start`,
   * their keys, ordinals and words written in place into a shipped index's arrays from `slot`. state: [end, count].
   */
  admitRecords(buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, ords: Uint32Array, words: Uint32Array, slot: number, ordinal: number, word: number, state: Float64Array): void
  /** admitRecords on a thread of the libuv pool, from slot 0, each record's start relative to `start` in `starts`; resolves to [end, count]. */
  admitRecordsAsync(buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, words: Uint32Array, starts: Uint32Array, word: number): Promise<number[]>
}

const debug = debuglog('chainlog')

/** The optional package that holds the addon. */
const ADDON = '@chainlog/native'

interface Loaded {
  addon: NativeAddon | null
  /** Why the JS path is used, when it is. */
  why: string
}

/** The addon, loaded once per thread (a require() that failed is not retried). */
let addonLoad: { module: NativeAddon | null; error: string } | undefined
/** The last path reported on NODE_DEBUG=chainlog, so that each change is said once. */
let reported = ''
/** Algorithms already reported as hashed natively (a verifier makes a hash function per segment). */
const reportedAlgorithms = new Set<string>()

function load(): Loaded {
  const wanted = process.env.CHAINLOG_HASH_PATH ?? ''
  if (!['', 'auto', 'js', 'native'].includes(wanted)) {
    throw invalidOption(`CHAINLOG_HASH_PATH=${JSON.stringify(wanted)}: expected js, native or auto`)
  }
  let loaded: Loaded
  if (wanted === 'js') loaded = { addon: null, why: 'CHAINLOG_HASH_PATH=js' }
  else {
    if (!addonLoad) {
      try {
        addonLoad = { module: require(ADDON) as NativeAddon, error: '' }
      } catch (err) {
        addonLoad = { module: null, error: `${ADDON} is not built: ${(err as Error).message.split('\n')[0]}` }
      }
    }
    if (!addonLoad.module && wanted === 'native') throw invalidOption(`CHAINLOG_HASH_PATH=native, but ${addonLoad.error}`)
    loaded = { addon: addonLoad.module, why: addonLoad.error }
  }
  const said = describe(loaded)
  if (said !== reported) debug('hash path: %s', (reported = said))
  return loaded
}

function describe({ addon, why }: Loaded): string {
  return addon ? `native (${ADDON}, ${addon.opensslVersion()})` : `js (crypto.hash; ${why})`
}

/** The hash path in use now (loading the addon on first call). */
export function hashPath(): HashPath {
  return load().addon ? 'native' : 'js'
}

/**
 * One line saying which hash path is in use and why, as `verify-log --version` prints it:
 * `native (@chainlog/native, OpenSSL 3.0.19 27 Jan 2026)` or `js (crypto.hash; @chainlog/native is not built: …)`.
 */
export function describeHashPath(): string {
  return describe(load())
}

/**
 * The batch hasher for sha256 or hmac-sha256 on the native path, or null on
 * the JS path (and for blake3, which stays in @noble/hashes).
 * @internal
 */
export function createBatchHasher(algorithm: string, key?: Uint8Array): BatchHasher | null {
  const { addon } = load()
  if (!addon || (algorithm !== 'sha256' && algorithm !== 'hmac-sha256')) return null
  const h = algorithm === 'sha256' ? addon.createHasher(1) : addon.createHasher(2, key)
  if (!reportedAlgorithms.has(algorithm)) {
    reportedAlgorithms.add(algorithm)
    debug('%s batches hashed on the native path', algorithm)
  }
  return {
    encodeLines: (src, pos, srcEnd, out, off, bound, limit, prev, state) => addon.encodeLines(h, src, pos, srcEnd, out, off, bound, limit, prev, state),
    chainRecords: (out, start, ends, count, prev) => addon.chainRecords(h, out, start, ends, count, prev),
    scanRecords: (buf, start, limit, expected, watch, state) => addon.scanRecords(h, buf, start, limit, expected, watch, state),
    admitRecords: (buf, start, limit, max, keys, ords, words, slot, ordinal, word, state) => addon.admitRecords(h, buf, start, limit, max, keys, ords, words, slot, ordinal, word, state),
    admitRecordsAsync: (buf, start, limit, max, keys, words, starts, word) => addon.admitRecordsAsync(h, buf, start, limit, max, keys, words, starts, word),
  }
}

/**
 * The native extension of an RFC 6962 compact range over a buffer of records
 * (#16): `range` holds the complete subtrees' roots, largest first, 32 bytes
 * each, and `state[0]` the tree size. state: [size, end after the last record
 * taken in, start of the malformed line it stopped at or -1].
 * @internal
 */
export type TreeExtender = (buf: Uint8Array, start: number, end: number, range: Uint8Array, state: Float64Array) => void

/**
 * The tree extender on the native path, or null on the JS path (tree.ts then
 * hashes record by record with `crypto.hash()`, to the same roots).
 * @internal
 */
export function createTreeExtender(): TreeExtender | null {
  const { addon } = load()
  return addon ? addon.extendTree : null
}

/**
 * The link of the shipped-record index (shipped-index.ts's RecordIndex.link())
 * over its storage: `keyChunks` (8 words per record), `wordChunks` (one word
 * per record), 65,536 records per chunk. Fills `succ` and the words' flags and
 * copy counts; returns the forks as [parent, child] pairs and the copies beyond
 * the 65,535 a word counts as [record, copies] pairs.
 * @internal
 */
export type IndexLinker = (keyChunks: Uint32Array[], wordChunks: Uint32Array[], count: number, succ: Int32Array) => { forks: Int32Array; many: Uint32Array }

/**
 * The index linker on the native path, or null on the JS path (RecordIndex.link()
 * then links in JavaScript, to the same successors, forks, flags and counts).
 * @internal
 */
export function createIndexLinker(): IndexLinker | null {
  const { addon } = load()
  return addon ? addon.linkRecords : null
}

/**
 * The native walk of shipped records' links span by span (shipped-walk.ts, #15): sixteen spans side by side.
 * Returns the number of visits it wrote as (span, record, distance).
 * @internal
 */
export type SpanFollower = (succ: Int32Array, starts: Int32Array, length: Int32Array, last: Int32Array, to: Int32Array, visits: Int32Array) => number

/**
 * The span follower on the native path, or null on the JS path (shipped-walk.ts then follows the spans itself,
 * to the same spans).
 * @internal
 */
export function createSpanFollower(): SpanFollower | null {
  const { addon } = load()
  return addon ? addon.followSpans : null
}
