/**
 * Seals under a clock that steps back (#12 C), with an injected clock, and
 * the heartbeat fixed in the keys (#12 A2), and the epoch keys that keygen
 * derives without a DER round trip per epoch (#17), against the DER path
 * that format 1 was defined with.
 */
import * as crypto from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import { expect, test } from 'vitest'
import { generateSealKeys, verify, writeSealKeys, type ChainlogError } from '../src/index'
import { parseMeta, type SealMeta } from '../src/format'
import { openWriter, tmpDir } from './helpers'

const HOUR = 3_600_000
const MIDNIGHT = Date.UTC(2026, 11, 2)

/** The seal records of the log in `dir`, in file order. */
function sealsIn(dir: string): SealMeta[] {
  const out: SealMeta[] = []
  for (const f of fs.readdirSync(dir).filter((n) => /^app\.\d+\.log$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(0, -1)) {
      const m = parseMeta(line.slice(65, -65))
      if (m?.t === 'seal') out.push(m as unknown as SealMeta)
    }
  }
  return out
}

test('an NTP step of 25 s back across midnight: the writer keeps sealing with no error, seal times never go back, and the verifier says VALID with a CLOCK_BACK notice', async () => {
  const dir = tmpDir()
  const keys = writeSealKeys(dir, generateSealKeys({ interval: HOUR, epochs: 48, start: MIDNIGHT - 24 * HOUR, heartbeat: 60_000 }))
  let now = MIDNIGHT - 3000
  const w = await openWriter({ file: path.join(dir, 'app.log'), sealKey: keys.sealKey, sealEvery: 5, now: () => now })
  const errors: ChainlogError[] = []
  w.on('error', (e) => errors.push(e as ChainlogError))
  const line = () => JSON.stringify({ level: 30, time: now, msg: 'tick' })
  // Before midnight, then across it (the state moves on to the new epoch), then 25 s back: the old epoch's key is gone.
  const lines = async (n: number, step: number) => {
    for (let i = 0; i < n; i++, now += step) {
      w.write(line())
      await w.flush()
    }
  }
  await lines(10, 500)
  now = MIDNIGHT + 2000
  await lines(10, 100)
  const stepped = now - 25_000
  now = stepped
  await lines(20, 100)
  await w.close()
  expect(errors).toEqual([])
  const seals = sealsIn(dir)
  expect(seals.at(-1)!.kind).toBe('close')
  expect(seals.length).toBeGreaterThanOrEqual(8)
  for (let i = 1; i < seals.length; i++) expect(seals[i]!.time).toBeGreaterThanOrEqual(seals[i - 1]!.time)
  // After the step the seals carry the first time the state can still sign for: never before the last seal, in the new epoch.
  const after = seals.filter((s) => s.count > seals.find((x) => x.time >= MIDNIGHT)!.count)
  expect(after.length).toBeGreaterThanOrEqual(4)
  expect(after.every((s) => s.epoch === 24 && s.time >= MIDNIGHT + 2000 && s.time < stepped + 25_000)).toBe(true)
  const key = JSON.parse(fs.readFileSync(keys.verifyKey, 'utf8'))
  const report = await verify(path.join(dir, 'app.log'), { verifyKey: key })
  expect(report.breaks).toEqual([])
  expect(report.verdict).toBe('VALID')
  expect(report.seals?.notices).toHaveLength(1)
  expect(report.seals?.notices[0]).toMatchObject({ kind: 'CLOCK_BACK', file: path.join(dir, 'app.1.log') })
  expect(report.seals?.notices[0]!.message).toMatch(/^records from here are dated up to 2\d s before the seal before them/)
})

test('the heartbeat: a writer without sealInterval seals at the key\'s, and one asking for more than the key allows is refused at open', async () => {
  const dir = tmpDir()
  const keys = writeSealKeys(dir, generateSealKeys({ interval: 2000, epochs: 100, heartbeat: 300 }))
  const w = await openWriter({ file: path.join(dir, 'app.log'), sealKey: keys.sealKey })
  w.write('one')
  await new Promise((r) => setTimeout(r, 700))
  await w.close()
  const seals = sealsIn(dir)
  expect(seals.every((s) => s.every === 300)).toBe(true)
  expect(seals.filter((s) => s.kind === 'heartbeat' || s.kind === 'interval').length).toBeGreaterThanOrEqual(1)
  await expect(openWriter({ file: path.join(dir, 'other.log'), sealKey: keys.sealKey, sealInterval: 301 })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
})

test('epoch keys derived through JWK are the keys format 1 defines through PKCS#8 DER: the leaves of a fresh state match', () => {
  const { state } = generateSealKeys({ interval: 1000, epochs: 6 })
  const leaves = Buffer.from(state.leaves, 'base64')
  let seed = Buffer.from(state.seed, 'hex')
  for (let i = 0; i < state.epochs; i++) {
    const secret = crypto.createHash('sha256').update('chainlog-seal-key').update(seed).digest()
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret])
    const pk = crypto.createPublicKey(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }).subarray(12)
    const index = Buffer.alloc(8)
    index.writeBigUInt64BE(BigInt(i))
    const leaf = crypto.createHash('sha256').update(Buffer.from([0])).update(index).update(pk).digest()
    expect(leaf.equals(leaves.subarray(i * 32, i * 32 + 32)), `epoch ${i}`).toBe(true)
    seed = crypto.createHash('sha256').update('chainlog-seal-evolve').update(seed).digest()
  }
})
