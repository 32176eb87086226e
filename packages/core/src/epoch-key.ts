/**
 * The key of one sealing epoch (docs/FORMAT.md §13): seed sᵢ, the next seed
 * sᵢ₊₁ = SHA-256("chainlog-seal-evolve" ‖ sᵢ), the Ed25519 key pair whose
 * private seed is SHA-256("chainlog-seal-key" ‖ sᵢ), and the Merkle leaf
 * SHA-256(0x00 ‖ u64be(i) ‖ pkᵢ) the verification key's root is built over.
 * The sealer and keygen's worker threads (seal-leaves.ts) import this file
 * alone.
 */
import * as crypto from 'node:crypto'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const EVOLVE = 'chainlog-seal-evolve'
const KEY = 'chainlog-seal-key'

/** SHA-256(prefix ‖ seed), one-shot (crypto.hash: no Hash object per call, #17). */
function prefixed(prefix: string, seed: Buffer): Buffer {
  const input = Buffer.allocUnsafe(prefix.length + seed.length)
  input.write(prefix, 0, 'latin1')
  seed.copy(input, prefix.length)
  const digest = crypto.hash('sha256', input, 'buffer')
  input.fill(0)
  return digest
}

/** sᵢ₊₁ from sᵢ. */
export function evolve(seed: Buffer): Buffer {
  return prefixed(EVOLVE, seed)
}

/**
 * Epoch key pair from its seed. The raw private key goes in as a JWK: Node
 * imports it with OpenSSL's raw-key call, where a PKCS#8 DER import runs
 * OpenSSL's decoder and costs about 25 times more (keygen derives every
 * epoch's key: seconds instead of a fraction of one, #17). The JWK's `x` is
 * not read for a private key, and the public key comes back from the export.
 */
export function keyPair(seed: Buffer): { privateKey: crypto.KeyObject; pk: Buffer } {
  const secret = prefixed(KEY, seed)
  let privateKey: crypto.KeyObject
  try {
    privateKey = crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: secret.toString('base64url'), x: '' }, format: 'jwk' })
  } catch {
    // A Node that checks x against d: the DER import, slower, same key.
    privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secret]), format: 'der', type: 'pkcs8' })
  }
  secret.fill(0)
  const pk = Buffer.from(privateKey.export({ format: 'jwk' }).x!, 'base64url')
  return { privateKey, pk }
}

/** The Merkle leaf of epoch `epoch`'s public key. */
export function leafHash(epoch: number, pk: Uint8Array): Buffer {
  const input = Buffer.alloc(1 + 8 + pk.length)
  input.writeUInt32BE(Math.floor(epoch / 2 ** 32), 1)
  input.writeUInt32BE(epoch >>> 0, 5)
  input.set(pk, 9)
  return crypto.hash('sha256', input, 'buffer')
}

/**
 * Writes the leaves of epochs [from, to) to `out` (epoch i's at byte 32·i),
 * starting from `seed`, the seed of epoch `from`. Every seed derived on the
 * way is wiped; `seed` itself is left to the caller.
 */
export function writeLeaves(seed: Buffer, from: number, to: number, out: Uint8Array): void {
  let s: Buffer = Buffer.from(seed)
  for (let i = from; i < to; i++) {
    out.set(leafHash(i, keyPair(s).pk), i * 32)
    const next = evolve(s)
    s.fill(0)
    s = next
  }
  s.fill(0)
}
