/**
 * Keygen's Merkle leaves (docs/FORMAT.md §13): the same bytes from one
 * thread or several, and the same as the format's definition spelled out
 * here with createHash() and a PKCS#8 import, independently of epoch-key.ts.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { expect, test } from 'vitest'
import { epochLeaves, LEAF_CHUNK } from '../src/seal-leaves'
import { workerScript } from '../src/worker-script'
import { tmpDir } from './helpers'

const sha256 = (...parts: (string | Buffer)[]) => parts.reduce((h, p) => h.update(p), crypto.createHash('sha256')).digest()

/** FORMAT.md §13: leaf i = SHA-256(0x00 ‖ u64be(i) ‖ pkᵢ), pkᵢ the Ed25519 key of seed SHA-256("chainlog-seal-key" ‖ sᵢ). */
function reference(seed0: Buffer, epochs: number): Buffer {
  const out: Buffer[] = []
  let s = seed0
  for (let i = 0; i < epochs; i++) {
    const secret = sha256('chainlog-seal-key', s)
    const key = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret]), format: 'der', type: 'pkcs8' })
    const pk = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32)
    const index = Buffer.alloc(8)
    index.writeBigUInt64BE(BigInt(i))
    out.push(sha256(Buffer.from([0]), index, pk))
    s = sha256('chainlog-seal-evolve', s)
  }
  return Buffer.concat(out)
}

const seed = Buffer.from('5eed'.repeat(16), 'hex')

test('the leaves of one thread are the format definition', () => {
  expect(epochLeaves(seed, 40, { threads: 1 }).toString('hex')).toBe(reference(seed, 40).toString('hex'))
})

test('several threads give the leaves of one, and the seed is left as it was', () => {
  expect(workerScript('seal-leaves-worker.js'), 'build @chainlog/core first').not.toBeNull()
  const epochs = 20 * LEAF_CHUNK + 17
  const one = epochLeaves(seed, epochs, { threads: 1 })
  expect(one.subarray(0, 40 * 32).toString('hex')).toBe(reference(seed, 40).toString('hex'))
  expect(epochLeaves(seed, epochs, { threads: 4 }).equals(one)).toBe(true)
  expect(seed.toString('hex')).toBe('5eed'.repeat(16))
})

test('workers that fail or never take a chunk leave their chunks to the calling thread', () => {
  const dir = tmpDir()
  const failing = path.join(dir, 'failing.js')
  fs.writeFileSync(failing, 'throw new Error("no worker")\n')
  const idle = path.join(dir, 'idle.js')
  fs.writeFileSync(idle, '\n')
  const epochs = 12 * LEAF_CHUNK
  const one = epochLeaves(seed, epochs, { threads: 1 })
  expect(epochLeaves(seed, epochs, { threads: 3, script: failing }).equals(one)).toBe(true)
  expect(epochLeaves(seed, epochs, { threads: 3, script: idle }).equals(one)).toBe(true)
  expect(epochLeaves(seed, epochs, { threads: 3, script: null }).equals(one)).toBe(true)
})
