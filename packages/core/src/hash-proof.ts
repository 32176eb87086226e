/**
 * What records prove by their hashes alone: whether the key a reviewer gives
 * is the chain's (rather than what the keyId a header names says: an attacker
 * can change a keyId, not the HMAC of the records under the real key, #12),
 * and which algorithm records without a header were hashed with.
 */
import { createHashFn, keyId, type Algorithm, type HashFn } from './algorithm'
import type { ChainFile } from './inputs'
import { readHead } from './read'
import { hasRecordBounds, HASH_HEX } from './record'

/** Whether a record in `head` (the first bytes of a file) matches its hash under HMAC-SHA256 with `key`. */
export function keyVerifiesAny(head: Buffer, key: Uint8Array): boolean {
  const hmac = createHashFn('hmac-sha256', { key })
  let start = 0
  for (let nl = head.indexOf(0x0a); nl !== -1; nl = head.indexOf(0x0a, start)) {
    if (hasRecordBounds(head, start, nl) && hmac(head.subarray(start, nl - HASH_HEX - 1)) === head.toString('latin1', nl - HASH_HEX, nl)) return true
    start = nl + 1
  }
  return false
}

/**
 * Whether `key` is shown to be the key of the chain in `files`: a header
 * names its key id, or one of the first records of a file whose header names
 * another id matches its hash under the key. Then a header naming another id
 * was changed (a break), rather than the key being wrong (KEY_MISMATCH).
 * @internal
 */
export async function keyVerified(files: ChainFile[], key: Uint8Array): Promise<boolean> {
  const id = keyId(key)
  const keyed = files.filter((f) => f.header?.alg === 'hmac-sha256' && f.header.keyId !== undefined)
  if (keyed.some((f) => f.header!.keyId === id)) return true
  for (const f of keyed) {
    const head = await readHead(f.path, f.gz).catch(() => null)
    if (head && keyVerifiesAny(head, key)) return true
  }
  return false
}

/**
 * The first algorithm of format 1 under which the record body `body` hashes
 * to `found` (hmac-sha256 first when a key is given); null when none does.
 * For records that no header declares an algorithm for (a deleted header,
 * stdin that begins mid-file), so that they are still checked line by line.
 * @internal
 */
export function matchAlgorithm(body: Uint8Array, found: string, key: Uint8Array | undefined): { alg: Algorithm; fn: HashFn } | null {
  for (const alg of key ? (['hmac-sha256', 'sha256', 'blake3'] as const) : (['sha256', 'blake3'] as const)) {
    const fn = createHashFn(alg, alg === 'hmac-sha256' ? { key: key! } : {})
    if (fn(body) === found) return { alg, fn }
  }
  return null
}
