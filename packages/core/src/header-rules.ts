/**
 * The rules a file's header must satisfy against the chain so far
 * (docs/FORMAT.md §5, §5.1): version, algorithm, key, chain id, index,
 * position, prevHash and prevFile, and the start of a chain whose first files
 * retention deleted. The verifier calls it once per file, never per record.
 */
import { createHashFn, isAlgorithm, keyId, type Algorithm, type HashFn } from './algorithm'
import { ChainlogError, ErrorCodes } from './errors'
import { FORMAT_VERSION, type DeletedFile, type HeaderMeta, type TruncationMeta } from './meta'
import { GENESIS } from './record'
import type { Break, Problem } from './report'

/** What a header does to the chain: its problem, if any, and where the chain continues from. */
export interface HeaderOutcome {
  problem: Problem | null
  /** The chain's position from this header on (its seq), when the header sets it; null: unchanged. */
  position: number | null
  /** The link the chain starts from, when this header starts the chain. */
  start: string | null
}

const ACCEPTED: HeaderOutcome = Object.freeze({ problem: null, position: null, start: null })

/** The chain as its headers declared it: id, algorithm and hash function, the last file's index and name. */
export class HeaderRules {
  private readonly key: Uint8Array | undefined
  private fn: HashFn | null = null
  private algorithm: Algorithm | null = null
  private chainId: string | null = null
  private lastIndex = -1
  /** The `file` member of the last header seen: the next header's prevFile. */
  private lastFile: string | null = null
  /** The chain starts after index 0: a MISSING_FILE break unless a retention record accounts for it. */
  private startGap: { header: HeaderMeta; brk: Break } | null = null

  constructor(key: Uint8Array | undefined) {
    this.key = key
  }

  /** The hash function of the chain; null before the first header that declares one. */
  get hashFn(): HashFn | null {
    return this.fn
  }

  /** The algorithm the chain's headers declare; null before the first. */
  get alg(): Algorithm | null {
    return this.algorithm
  }

  /** The chain id of the first header; null before it. */
  get chain(): string | null {
    return this.chainId
  }

  /**
   * Checks the header `h` of `file`, whose record links to `prev`, against
   * the chain so far: `expected` is the link the chain wants (null before the
   * first header) and `position` its physical lines before this one. Sets the
   * hash function; throws KEY_REQUIRED or KEY_MISMATCH when the key does not
   * fit a keyed chain.
   */
  check(h: HeaderMeta, prev: string, expected: string | null, position: number, file: string): HeaderOutcome {
    const outcome = this.rules(h, prev, expected, position, file)
    // Whatever the verdict on this header, the next one names this file.
    this.lastFile = h.file
    return outcome
  }

  private rules(h: HeaderMeta, prev: string, expected: string | null, position: number, file: string): HeaderOutcome {
    if (h.v !== FORMAT_VERSION) return bad({ reason: 'BAD_HEADER', message: `format version ${h.v} is not supported (this verifier reads ${FORMAT_VERSION})` })
    if (!isAlgorithm(h.alg)) return bad({ reason: 'BAD_HEADER', message: `unknown algorithm ${JSON.stringify(h.alg)}` })
    if (typeof h.chain !== 'string' || typeof h.index !== 'number' || typeof h.seq !== 'number') return bad({ reason: 'BAD_HEADER', message: 'header lacks chain, index or seq' })
    // FORMAT.md §5: prevHash repeats the record's own prev (retention is matched against it).
    if (h.prevHash !== prev) return bad({ reason: 'BAD_HEADER', message: "the header's prevHash is not its record's prev", expected: prev, found: String(h.prevHash) })
    if ((h.index === 0) !== (h.prevFile === null)) return bad({ reason: 'BAD_HEADER', message: h.index === 0 ? 'the first file of a chain names no previous file' : 'only the first file of a chain (index 0) has no previous file', expected: h.index === 0 ? 'null' : 'a file name', found: JSON.stringify(h.prevFile) })
    // A keyed chain cannot be re-declared unkeyed: anyone could then recompute it (#12).
    // The reviewer's --key asserts a keyed chain; a keyed first header asserts it for every later file.
    if (h.alg !== 'hmac-sha256' && (this.key || this.algorithm === 'hmac-sha256')) {
      return bad({ reason: 'BAD_HEADER', message: this.key ? `a key was given, but this header declares ${h.alg}: an unkeyed chain can be recomputed by anyone` : `the chain is hmac-sha256, but this header declares ${h.alg}: a keyed chain cannot continue unkeyed`, expected: 'hmac-sha256', found: h.alg })
    }
    if (this.algorithm !== h.alg || !this.fn) {
      if (h.alg === 'hmac-sha256') {
        if (!this.key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, `${file} is an hmac-sha256 chain; give its key (--key <file>)`, { path: file })
        if (h.keyId && keyId(this.key) !== h.keyId) throw new ChainlogError(ErrorCodes.KEY_MISMATCH, `the key given is not the key of ${file} (key id ${keyId(this.key)}, file wants ${h.keyId})`, { path: file })
        this.fn = createHashFn('hmac-sha256', { key: this.key })
      } else this.fn = createHashFn(h.alg)
      this.algorithm = h.alg
    }
    if (this.chainId === null) {
      this.chainId = h.chain
      if (h.index === 0) {
        if (prev !== GENESIS) return { problem: { reason: 'PREV_MISMATCH', message: 'the first file of a chain must start from the genesis value', expected: GENESIS, found: prev }, position: h.seq, start: null }
      } else {
        // Earlier files are absent: fine only if a retention record later in the chain deleted them.
        // Files are named, never indexes: the header names the file before it.
        const before = typeof h.prevFile === 'string' ? h.prevFile : 'the file before it'
        this.startGap = { header: h, brk: { file, line: 1, offset: 0, reason: 'MISSING_FILE', message: `the chain starts after ${before}, which is missing with any file before it, and no retention or archive record in the chain accounts for them`, expected: `a retention or archive record naming ${before}`, found: prev } }
      }
      return { problem: null, position: h.seq, start: prev }
    }
    if (h.chain !== this.chainId) return bad({ reason: 'BAD_HEADER', message: `this file belongs to chain ${h.chain}, not ${this.chainId}`, expected: this.chainId, found: h.chain })
    if (h.index <= this.lastIndex) return bad({ reason: 'BAD_HEADER', message: `file index ${h.index} does not follow ${this.lastIndex}`, expected: String(this.lastIndex + 1), found: String(h.index) })
    // FORMAT.md §5.1: a file that links to the one before it has the next index. A larger one
    // with an intact link is a rewritten header, not missing files (those break the link).
    if (h.index !== this.lastIndex + 1 && prev === expected) {
      const problem = bad({ reason: 'BAD_HEADER', message: `file index ${h.index} does not follow ${this.lastIndex}, though the file links to it`, expected: String(this.lastIndex + 1), found: String(h.index) })
      // Reported once, like a wrong seq below: later files are numbered on from this one.
      this.lastIndex = h.index
      return problem
    }
    if (prev === expected && this.lastFile !== null && h.prevFile !== this.lastFile) {
      return bad({ reason: 'BAD_HEADER', message: `the header names ${JSON.stringify(h.prevFile)} as the previous file, which was created as ${JSON.stringify(this.lastFile)}`, expected: this.lastFile, found: JSON.stringify(h.prevFile) })
    }
    if (h.seq !== position && h.index === this.lastIndex + 1 && prev === expected) {
      // Reported once: count on from the header, so that (with `all`) every later header is not off by the same lines.
      this.lastIndex = h.index
      return { problem: { reason: 'BAD_HEADER', message: `header says ${h.seq} lines precede it, the chain has ${position}`, expected: String(position), found: String(h.seq) }, position: h.seq, start: null }
    }
    return ACCEPTED
  }

  /** The header `h` verified and links to the chain: the next file follows its index. */
  linked(h: HeaderMeta): void {
    this.lastIndex = h.index
  }

  /**
   * The header `h` does not link to the chain. Returns how many files are
   * missing before it (0: none, the link itself broke); either way, later
   * files are numbered on from it.
   */
  missingBefore(h: HeaderMeta): number {
    const missing = this.lastIndex >= 0 && h.index > this.lastIndex + 1 ? h.index - this.lastIndex - 1 : 0
    this.lastIndex = h.index
    return missing
  }

  /** Files a retention record deleted or an archive record moved away: they may be the files missing before the chain's start. */
  retention(deleted: DeletedFile[]): void {
    const gap = this.startGap
    if (gap && deleted.some((d) => d.index === gap.header.index - 1 && d.lastHash === gap.header.prevHash)) this.startGap = null
  }

  /**
   * A truncation record: when the chain starts right after the first file of
   * the chain, found cut or emptied, that file is accounted for (the cut is the
   * break, reported once). Returns the cut's break.
   */
  truncated(meta: TruncationMeta, cut: Break): Break {
    const gap = this.startGap
    if (gap && meta.index === 0 && gap.header.index === 1 && gap.header.prevFile === meta.file) this.startGap = null
    return cut
  }

  /** At the end of the chain: the MISSING_FILE break of a start that no retention record accounts for. */
  takeStartGap(): Break | null {
    const gap = this.startGap
    this.startGap = null
    return gap ? gap.brk : null
  }
}

function bad(problem: Problem): HeaderOutcome {
  return { problem, position: null, start: null }
}
