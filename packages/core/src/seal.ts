/**
 * Forward-secure, publicly verifiable seals (docs/FORMAT.md §13).
 *
 * At keygen a random seed s₀ is drawn. Epoch i (of `interval` ms, from
 * `start`) has the seed sᵢ = SHA-256("chainlog-seal-evolve" ‖ sᵢ₋₁) and the
 * Ed25519 key pair whose private seed is SHA-256("chainlog-seal-key" ‖ sᵢ).
 * The verification key holds only a Merkle root over every epoch's public key
 * (leaf = SHA-256(0x00 ‖ u64be(i) ‖ pkᵢ), node = SHA-256(0x01 ‖ l ‖ r), as in
 * RFC 6962), so it is small, public, and cannot sign. Each seal carries its
 * epoch's public key and the Merkle proof for it.
 *
 * The verification key also fixes the heartbeat: the longest time the writer
 * may leave between two seals. The verifier takes it from there, never from
 * the seals, which whoever holds a later key can write.
 *
 * The sealing state (`seal.key`) holds the current sᵢ only. When the epoch
 * changes, sᵢ₊₁ is derived, written in place of sᵢ, and sᵢ is wiped from memory:
 * since SHA-256 is one-way, whoever copies the state later cannot recover any
 * earlier seed, so cannot sign for any earlier epoch.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { threadId } from 'node:worker_threads'
import { evolve, keyPair, leafHash } from './epoch-key'
import { ChainlogError, ErrorCodes } from './errors'
import { writeKeyPair } from './key-pair-files'
import { epochLeaves } from './seal-leaves'

export const SEAL_ALGORITHM = 'ed25519-fs-merkle'

/** Heartbeat fixed at keygen when none is asked for, ms: the writers' default sealInterval. */
export const DEFAULT_HEARTBEAT_MS = 60_000
/** Shortest heartbeat a key may fix, ms (the writers' shortest sealInterval). */
export const MIN_HEARTBEAT_MS = 100

/**
 * The public verification key (`verify.key`). Version 2 fixes the heartbeat;
 * version 1 keys (made before it) do not, so verifying with one needs the
 * heartbeat from the reviewer (FORMAT.md §13.1).
 */
export interface VerifyKey {
  v: 1 | 2
  alg: typeof SEAL_ALGORITHM
  /** Key id: first 16 hex of the Merkle root. */
  id: string
  /** Start of epoch 0, ms since the epoch. */
  start: number
  /** Epoch length in ms. */
  interval: number
  /** Number of epochs the key covers. */
  epochs: number
  /** Merkle root over all epoch public keys, hex. */
  root: string
  /** Version 2: the longest time between two seals the writer promises, ms. Absent in version 1 keys. */
  heartbeat?: number
}

/** The private, evolving sealing state (`seal.key`): the verification key's parameters, plus the secret. */
export interface SealState extends VerifyKey {
  /** The epoch whose seed this state holds. */
  epoch: number
  /** sᵢ for `epoch`, hex. Earlier seeds are gone. */
  seed: string
  /** Public Merkle leaves of every epoch, base64 of concatenated 32-byte hashes (public data, for proofs). */
  leaves: string
}

/** What a seal record signs and carries (the `\m{"t":"seal",…}` record). */
export interface SealMeta {
  t: 'seal'
  /** Key id of the verification key. */
  key: string
  chain: string
  /** Physical lines of the chain before this seal record (its position). */
  count: number
  /** Hash of the record before this seal (equal to the seal record's prev). */
  head: string
  /** ms since the epoch. */
  time: number
  epoch: number
  /** `interval` (every N records or T ms), `heartbeat` (idle), `rotation`, `close` (clean shutdown), `start` (a writer starts: the seals before it may stop short). */
  kind: SealKind
  /** The writer's sealInterval, ms. Informational: the verifier takes the heartbeat from the verification key. */
  every: number
  /** Epoch public key, hex (32 bytes). */
  pk: string
  /** Merkle proof of pk: sibling hashes from the leaf up, hex. */
  proof: string[]
  /** Ed25519 signature over sealMessage(), hex. */
  sig: string
}

export type SealKind = 'interval' | 'heartbeat' | 'rotation' | 'close' | 'start'

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

const NODE = Buffer.from([1])
const nodeHash = (l: Buffer, r: Buffer) => crypto.hash('sha256', Buffer.concat([NODE, l, r], 65), 'buffer')

/** RFC 6962 Merkle tree hash over `leaves` (already leaf-hashed). */
function merkleRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!
  const k = largestPowerOfTwoBelow(leaves.length)
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)))
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** RFC 6962 §2.1.1 audit path for leaf `m` of `leaves`, from the leaf upwards. */
function merkleProof(leaves: Buffer[], m: number): Buffer[] {
  if (leaves.length <= 1) return []
  const k = largestPowerOfTwoBelow(leaves.length)
  if (m < k) return [...merkleProof(leaves.slice(0, k), m), merkleRoot(leaves.slice(k))]
  return [...merkleProof(leaves.slice(k), m - k), merkleRoot(leaves.slice(0, k))]
}

/** Recomputes the root from a leaf, its index, the tree size and its audit path (RFC 9162 §2.1.3.2). */
export function rootFromProof(leaf: Buffer, index: number, size: number, proof: Buffer[]): Buffer | null {
  if (index >= size) return null
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return null
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1
          sn >>= 1
        }
      }
    } else r = nodeHash(r, p)
    fn >>= 1
    sn >>= 1
  }
  return sn === 0 ? r : null
}

/**
 * Creates a verification key and a sealing state covering `epochs` epochs of
 * `interval` ms from `start`.
 */
export function generateSealKeys(options: { interval?: number; epochs?: number; start?: number; heartbeat?: number } = {}): { verifyKey: VerifyKey; state: SealState } {
  const interval = options.interval ?? 3_600_000
  const epochs = options.epochs ?? 24 * 366
  const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT_MS
  if (!Number.isInteger(interval) || interval < 1000) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the epoch interval must be at least 1000 ms; got ${interval}`)
  if (!Number.isInteger(heartbeat) || heartbeat < MIN_HEARTBEAT_MS) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the heartbeat must be a whole number of ms, at least ${MIN_HEARTBEAT_MS}; got ${heartbeat}`)
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1_000_000) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `epochs must be between 1 and 1000000; got ${epochs}`)
  const start = options.start ?? Math.floor(Date.now() / interval) * interval
  const seed0 = crypto.randomBytes(32)
  const all = epochLeaves(seed0, epochs)
  const leaves = Array.from({ length: epochs }, (_, i) => all.subarray(i * 32, i * 32 + 32))
  const root = merkleRoot(leaves).toString('hex')
  const id = root.slice(0, 16)
  const verifyKey: VerifyKey = { v: 2, alg: SEAL_ALGORITHM, id, start, interval, epochs, heartbeat, root }
  const state: SealState = { v: 2, alg: SEAL_ALGORITHM, id, start, interval, epochs, heartbeat, root, epoch: 0, seed: seed0.toString('hex'), leaves: all.toString('base64') }
  seed0.fill(0)
  return { verifyKey, state }
}

/** Writes `verify.key` (0644) and `seal.key` (0600) into `dir`. */
export function writeSealKeys(dir: string, keys: { verifyKey: VerifyKey; state: SealState }, options: { force?: boolean } = {}): { verifyKey: string; sealKey: string } {
  const [verifyKey, sealKey] = writeKeyPair(
    dir,
    [
      { name: 'verify.key', text: JSON.stringify(keys.verifyKey, null, 2) + '\n', mode: 0o644 },
      { name: 'seal.key', text: JSON.stringify(keys.state) + '\n', mode: 0o600 },
    ],
    options,
    `${dir} already holds keys; refusing to overwrite them (they may be needed to verify old logs)`,
  )
  return { verifyKey, sealKey }
}

function badKey(file: string, why: string): ChainlogError {
  return new ChainlogError(ErrorCodes.BAD_KEY, `${file}: ${why}`, { path: file })
}

/** Reads and checks a verification key file. */
export function loadVerifyKey(file: string): VerifyKey {
  let raw: string
  try {
    raw = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw badKey(file, `cannot read the verification key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let k: VerifyKey
  try {
    k = JSON.parse(raw)
  } catch {
    throw badKey(file, 'not a chainlog verification key (not JSON)')
  }
  // seal.key carries every field of verify.key too: refuse it, so the private state is never handed around as a public key.
  if (k && (k as unknown as { seed?: unknown }).seed !== undefined) throw badKey(file, 'this is a sealing state (seal.key), not a verification key; give verify.key')
  if (k && k.v === 2 && !(Number.isInteger(k.heartbeat) && k.heartbeat! >= MIN_HEARTBEAT_MS)) throw badKey(file, 'the verification key has no valid heartbeat')
  if (k && k.v === 1 && k.heartbeat !== undefined) throw badKey(file, 'not a chainlog verification key (a heartbeat in a version 1 key)')
  if (!k || k.alg !== SEAL_ALGORITHM || (k.v !== 1 && k.v !== 2) || !/^[0-9a-f]{64}$/.test(String(k.root)) || !Number.isInteger(k.interval) || !Number.isInteger(k.epochs) || !Number.isInteger(k.start) || k.id !== String(k.root).slice(0, 16)) {
    throw badKey(file, 'not a chainlog verification key')
  }
  return k
}

/** The message a seal signs: every field that binds it to its place and time. */
export function sealMessage(m: Pick<SealMeta, 'key' | 'chain' | 'count' | 'head' | 'time' | 'epoch' | 'kind' | 'every'>): Buffer {
  return Buffer.from(`chainlog-seal-v1\n${m.key}\n${m.chain}\n${m.count}\n${m.head}\n${m.time}\n${m.epoch}\n${m.kind}\n${m.every}`)
}

/**
 * Checks a seal's signature and that its public key is the key of its epoch
 * under `key`. Returns null if valid, or what is wrong.
 */
export function checkSealSignature(seal: SealMeta, key: VerifyKey): string | null {
  if (seal.key !== key.id) return `sealed with key ${String(seal.key)}, not ${key.id}`
  if (!Number.isInteger(seal.epoch) || seal.epoch < 0 || seal.epoch >= key.epochs) return `epoch ${seal.epoch} is outside the key's ${key.epochs} epochs`
  if (!/^[0-9a-f]{64}$/.test(seal.pk) || !Array.isArray(seal.proof) || !seal.proof.every((p) => /^[0-9a-f]{64}$/.test(p)) || !/^[0-9a-f]{128}$/.test(seal.sig)) return 'malformed seal fields'
  const pk = Buffer.from(seal.pk, 'hex')
  const root = rootFromProof(leafHash(seal.epoch, pk), seal.epoch, key.epochs, seal.proof.map((p) => Buffer.from(p, 'hex')))
  if (!root || root.toString('hex') !== key.root) return `the public key is not the key of epoch ${seal.epoch}`
  const publicKey = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, pk]), format: 'der', type: 'spki' })
  if (!crypto.verify(null, sealMessage(seal), publicKey, Buffer.from(seal.sig, 'hex'))) return 'the signature does not verify'
  return null
}

/** The epoch `time` falls in, under a key. */
export function epochOf(key: Pick<VerifyKey, 'start' | 'interval'>, time: number): number {
  return Math.floor((time - key.start) / key.interval)
}

/**
 * The writer side: signs seals with the current epoch's key, evolving the
 * state file forward (and erasing the old seed) when the epoch changes.
 * The writer calls it with the log lock held, so several writers share one
 * state file safely: each re-reads it when it changed on disk.
 */
export class Sealer {
  readonly file: string
  private state: SealState
  private seed: Buffer
  private privateKey: crypto.KeyObject
  private pk: Buffer
  private leaves: Buffer[]
  private mtimeMs = 0
  /** The Merkle proof of the current epoch's key, computed once per epoch. */
  private proof: { epoch: number; hex: string[] } | null = null

  constructor(file: string) {
    this.file = file
    const { state, mtimeMs } = Sealer.read(file)
    this.state = state
    this.mtimeMs = mtimeMs
    this.seed = Buffer.from(state.seed, 'hex')
    const buf = Buffer.from(state.leaves, 'base64')
    this.leaves = []
    for (let i = 0; i < state.epochs; i++) this.leaves.push(buf.subarray(i * 32, i * 32 + 32))
    const kp = keyPair(this.seed)
    this.privateKey = kp.privateKey
    this.pk = kp.pk
  }

  get keyId(): string {
    return this.state.id
  }

  /** The heartbeat the keys fix, ms; null for keys made before keys fixed one (version 1). */
  get heartbeat(): number | null {
    return this.state.heartbeat ?? null
  }

  /**
   * The earliest time this state can sign for: the start of the epoch it
   * holds (another writer's evolution picked up first). Earlier epochs' keys
   * are erased, so a clock that went back behind it cannot be signed for.
   */
  earliest(): number {
    this.reload()
    return this.state.start + this.state.epoch * this.state.interval
  }

  private static read(file: string): { state: SealState; mtimeMs: number } {
    let raw: string
    let mtimeMs: number
    try {
      raw = fs.readFileSync(file, 'utf8')
      mtimeMs = fs.statSync(file).mtimeMs
    } catch (err) {
      throw badKey(file, `cannot read the sealing key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    let state: SealState
    try {
      state = JSON.parse(raw)
    } catch {
      throw badKey(file, 'not a chainlog sealing key (not JSON)')
    }
    if (!state || state.alg !== SEAL_ALGORITHM || !/^[0-9a-f]{64}$/.test(String(state.seed)) || typeof state.leaves !== 'string' || !Number.isInteger(state.epoch)) {
      throw badKey(file, state && (state as unknown as { root?: unknown }).root && !(state as unknown as { seed?: unknown }).seed ? 'this is a verification key (verify.key), not a sealing key; give seal.key' : 'not a chainlog sealing key')
    }
    if (Buffer.from(state.leaves, 'base64').length !== state.epochs * 32) throw badKey(file, 'the sealing key is damaged (wrong number of leaves)')
    return { state, mtimeMs }
  }

  /** Picks up an evolution another writer made to the state file. */
  private reload(): void {
    let mtimeMs: number
    try {
      mtimeMs = fs.statSync(this.file).mtimeMs
    } catch {
      return
    }
    if (mtimeMs === this.mtimeMs) return
    const { state } = Sealer.read(this.file)
    if (state.epoch > this.state.epoch) {
      this.wipe()
      this.state = state
      this.seed = Buffer.from(state.seed, 'hex')
      const kp = keyPair(this.seed)
      this.privateKey = kp.privateKey
      this.pk = kp.pk
    }
    this.mtimeMs = mtimeMs
  }

  private wipe(): void {
    this.seed.fill(0)
  }

  /** Moves the state forward to `epoch`, erasing every earlier seed from memory and disk. */
  private advance(epoch: number): void {
    if (epoch <= this.state.epoch) return
    let s = this.seed
    for (let i = this.state.epoch; i < epoch; i++) {
      const next = evolve(s)
      s.fill(0)
      s = next
    }
    this.seed = s
    this.state = { ...this.state, epoch, seed: s.toString('hex') }
    const kp = keyPair(s)
    this.privateKey = kp.privateKey
    this.pk = kp.pk
    // Replace the file atomically, so a crash leaves either the old or the new state.
    // Unique per process, thread and call: writers in several threads of one process share the state file.
    const tmp = `${this.file}.${process.pid}.${threadId}.${crypto.randomBytes(4).toString('hex')}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(this.state) + '\n', { mode: 0o600 })
    fs.renameSync(tmp, this.file)
    this.mtimeMs = fs.statSync(this.file).mtimeMs
  }

  /**
   * Signs a seal for the chain position `count` with head `head` at `time`.
   * @throws ChainlogError SEAL_KEY_EXPIRED when `time` is past the key's last epoch; INVALID_OPTION when it is before its first.
   */
  seal(fields: { chain: string; count: number; head: string; time: number; kind: SealKind; every: number }): SealMeta {
    this.reload()
    const epoch = epochOf(this.state, fields.time)
    if (epoch < 0) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the clock (${new Date(fields.time).toISOString()}) is before the sealing key's first epoch`)
    if (epoch >= this.state.epochs) throw new ChainlogError(ErrorCodes.SEAL_KEY_EXPIRED, `the sealing key ${this.state.id} expired at ${new Date(this.state.start + this.state.epochs * this.state.interval).toISOString()}; create new keys with chainlog keygen`)
    if (epoch < this.state.epoch) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the clock went back to epoch ${epoch}, but the sealing key has already moved on to epoch ${this.state.epoch}; its earlier keys are erased`)
    this.advance(epoch)
    const meta = { key: this.state.id, chain: fields.chain, count: fields.count, head: fields.head, time: fields.time, epoch, kind: fields.kind, every: fields.every }
    const sig = crypto.sign(null, sealMessage(meta), this.privateKey).toString('hex')
    if (this.proof?.epoch !== epoch) this.proof = { epoch, hex: merkleProof(this.leaves, epoch).map((b) => b.toString('hex')) }
    return { t: 'seal', ...meta, pk: this.pk.toString('hex'), proof: this.proof.hex, sig }
  }

  /** Erases the seed from memory. */
  close(): void {
    this.wipe()
  }
}
