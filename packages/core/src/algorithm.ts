import * as crypto from 'node:crypto'
import type { blake3 } from '@noble/hashes/blake3.js'
import type { sha256 } from '@noble/hashes/sha2.js'
import type { hmac } from '@noble/hashes/hmac.js'
import type { bytesToHex } from '@noble/hashes/utils.js'
import { ChainlogError, ErrorCodes } from './errors'
import { createBatchHasher, type BatchHasher } from './hash-path'

/** The chain hash functions of chainlog format 1. All produce 32 bytes (64 hex chars). */
export const ALGORITHMS = ['sha256', 'blake3', 'hmac-sha256'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/**
 * Which implementation computes the hash: Node's OpenSSL binding (with whole
 * batches in @chainlog/native where it is built, hash-path.ts), or pure JS (@noble/hashes).
 */
export type Implementation = 'node' | 'noble'

/**
 * Hashes the bytes of `prev|line` to 64 lowercase hex characters.
 * Strings are hashed as their UTF-8 encoding.
 */
export type HashFn = ((data: string | Uint8Array) => string) & {
  /**
   * The same hash over whole batches, on the native path (hash-path.ts);
   * absent on the JS path, where the writer and the verifier call the
   * function once per record.
   * @internal
   */
  readonly batch?: BatchHasher
}

/** Gives a Node-backed hash function its batch hasher, where the native path is in use. */
function withBatch(fn: (data: string | Uint8Array) => string, algorithm: Algorithm, key?: Uint8Array): HashFn {
  const batch = createBatchHasher(algorithm, key)
  return batch ? Object.assign(fn, { batch }) : fn
}

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value)
}

/**
 * @noble/hashes, loaded with the first BLAKE3 or pure-JS hash function: a
 * SHA-256 chain never needs it, and verify-log and its workers start sooner (#17).
 */
function noble(): { blake3: typeof blake3; sha256: typeof sha256; hmac: typeof hmac; bytesToHex: typeof bytesToHex } {
  return {
    blake3: (require('@noble/hashes/blake3.js') as { blake3: typeof blake3 }).blake3,
    sha256: (require('@noble/hashes/sha2.js') as { sha256: typeof sha256 }).sha256,
    hmac: (require('@noble/hashes/hmac.js') as { hmac: typeof hmac }).hmac,
    bytesToHex: (require('@noble/hashes/utils.js') as { bytesToHex: typeof bytesToHex }).bytesToHex,
  }
}

const encoder = new TextEncoder()
const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? encoder.encode(data) : data)

// crypto.hash() (Node >= 20.12) is the one-shot digest without a Hash object;
// it is several times cheaper per call than createHash() for ~200-byte inputs.
const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string }).hash

function nodeSha256(): HashFn {
  if (oneShot) return (data) => oneShot('sha256', data, 'hex')
  return (data) => crypto.createHash('sha256').update(data).digest('hex')
}

/**
 * Returns the hash function for an algorithm. `hmac-sha256` needs `key`.
 * @example
 * const h = createHashFn('sha256')
 * h('0'.repeat(64) + '|hello') // 64 hex chars
 */
export function createHashFn(algorithm: Algorithm, options: { key?: Uint8Array; impl?: Implementation } = {}): HashFn {
  const impl = options.impl ?? 'node'
  switch (algorithm) {
    case 'sha256': {
      if (impl === 'node') return withBatch(nodeSha256(), algorithm)
      const { sha256, bytesToHex } = noble()
      return (data) => bytesToHex(sha256(toBytes(data)))
    }
    case 'blake3': {
      // Node's OpenSSL has no BLAKE3; @noble/hashes is the audited implementation.
      const { blake3, bytesToHex } = noble()
      return (data) => bytesToHex(blake3(toBytes(data)))
    }
    case 'hmac-sha256': {
      const key = options.key
      if (!key || key.length === 0) {
        throw new ChainlogError(ErrorCodes.KEY_REQUIRED, 'the hmac-sha256 algorithm needs a key (option keyFile / --key)')
      }
      if (impl === 'noble') {
        const { hmac, sha256, bytesToHex } = noble()
        return (data) => bytesToHex(hmac(sha256, key, toBytes(data)))
      }
      return withBatch((data) => crypto.createHmac('sha256', key).update(data).digest('hex'), algorithm, key)
    }
    default:
      throw new ChainlogError(ErrorCodes.UNKNOWN_ALGORITHM, `unknown algorithm ${JSON.stringify(algorithm)}; expected one of ${ALGORITHMS.join(', ')}`)
  }
}

/**
 * A short public identifier of an HMAC key, stored in the header so that the
 * verifier can tell "wrong key" from "tampered file". It is a hash of the key
 * under a distinct prefix, so it reveals nothing usable about the key.
 */
export function keyId(key: Uint8Array): string {
  return crypto.createHash('sha256').update('chainlog-key-id\0').update(key).digest('hex').slice(0, 16)
}

/** The minimum length of an hmac-sha256 key, in bytes. */
export const MIN_KEY_BYTES = 32
