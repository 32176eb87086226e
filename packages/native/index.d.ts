/** A hashing context made by {@link createHasher}: the algorithm and, for HMAC, the key's padded states. */
export type Hasher = { readonly __brand: 'chainlog-native-hasher' }

/** 1: sha256, 2: hmac-sha256 (which needs `key`). */
export function createHasher(alg: 1 | 2, key?: Uint8Array): Hasher

/** The 64 lowercase hex characters of one record's hash over `data`. */
export function hashHex(hasher: Hasher, data: Uint8Array): string

/**
 * Encodes the LF-terminated verbatim lines `src[pos, srcEnd)` as records at `out[off]`, chained after `prev`.
 * Stops before a record that would end past `bound`, once `off` reaches `limit`, or at `srcEnd`.
 * Writes the next line's position to `state[0]` and the end of the records in `out` to `state[1]`.
 * Returns the number of records written.
 */
export function encodeLines(hasher: Hasher, src: Uint8Array, pos: number, srcEnd: number, out: Uint8Array, off: number, bound: number, limit: number, prev: string, state: Float64Array): number

/** Fills the prev and hash fields of the `count` records laid out from `out[start]`, record i ending at `ends[i]`, chained after `prev`. Returns `count`. */
export function chainRecords(hasher: Hasher, out: Uint8Array, start: number, ends: Float64Array, count: number, prev: string): number

/**
 * Accepts consecutive verbatim user records of `buf` from `start` (ending before `limit`), each linked to the one
 * before (the first to `expected`) and matching its hash. `state` receives [end, count, firstStart, firstEnd,
 * lastStart, lastEnd, watchAt].
 */
export function scanRecords(hasher: Hasher, buf: Uint8Array, start: number, limit: number, expected: string, watch: string | null, state: Float64Array): void

/**
 * Shipped records, in any order, each checked alone: takes up to `max` consecutive verbatim user records of `buf`
 * from `start` (ending before `limit`) whose hash field is the hash of their prev|line, both fields lowercase hex.
 * Record k's keys (the first 128 bits of prev, then of hash, 4 words each) go to `keys[(slot + k) * 8]`,
 * `ordinal + k` to `ords[slot + k]`, and `word` (| 1 when its prev is 64 zeros) to `words[slot + k]`. Stops at the
 * first line that is anything else. `state` receives [end after the last LF taken, records taken].
 */
export function admitRecords(hasher: Hasher, buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, ords: Uint32Array, words: Uint32Array, slot: number, ordinal: number, word: number, state: Float64Array): void

/**
 * admitRecords on a thread of the libuv pool: record k's keys go to `keys[k * 8]`, its word to `words[k]` and its
 * start, relative to `start`, to `starts[k]`. Resolves to [end after the last LF taken, records taken]. The arrays
 * and `buf` must not be touched until it settles.
 */
export function admitRecordsAsync(hasher: Hasher, buf: Uint8Array, start: number, limit: number, max: number, keys: Uint32Array, words: Uint32Array, starts: Uint32Array, word: number): Promise<[number, number]>

/** The OpenSSL version string of the Node that loaded the addon. */
export function opensslVersion(): string

/**
 * Extends the RFC 6962 compact range in `range` (the complete subtrees' roots, largest first, 32 bytes each; the
 * tree size in `state[0]`) with the leaf of every complete line of `buf[start, end)`, whose hash field is its last
 * 64 hex characters before the LF. Stops at the first line that is shorter or not hex there. `state` receives
 * [size, end after the last record taken in, start of the malformed line or -1].
 */
export function extendTree(buf: Uint8Array, start: number, end: number, range: Uint8Array, state: Float64Array): void

/**
 * Links the `count` records of chainlog's shipped-record index as `RecordIndex.link()` does, bit for bit, over its
 * storage: `keyChunks` (8 words per record: 4 of `prev`, 4 of hash) and `wordChunks` (one word per record: flags |
 * alg << 8 | copies << 16), 65,536 records per chunk. Fills `succ` with each record's first child or -1 and sets the
 * words' DUP, SHADOWED and LINKED flags and copy counts. Returns the forks as [parent, child] pairs and, as
 * [record, copies] pairs, the copies beyond the 65,535 a word counts.
 */
export function linkRecords(keyChunks: Uint32Array[], wordChunks: Uint32Array[], count: number, succ: Int32Array): { forks: Int32Array; many: Uint32Array }

/**
 * Follows the links of shipped records span by span, sixteen spans side by side. `succ`: per record, the record
 * after it or -1, with bit 30 set on a record that needs a visit (-2 for such a record at a run's end). For each
 * span start in `starts` (multiples of 64, increasing), span s = start >> 6 gets its length, last record and the
 * link after it in `length`, `last` and `to`; each visit goes to `visits` as (span, record, distance). Returns
 * the number of visits.
 */
export function followSpans(succ: Int32Array, starts: Int32Array, length: Int32Array, last: Int32Array, to: Int32Array, visits: Int32Array): number
