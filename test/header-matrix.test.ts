/**
 * Every header field changed, with and without recomputed hashes (#12), in
 * the spirit of systemd's test-journal-verify: over plain, hmac-sha256,
 * gzipped and sealed logs written by the real core writer. Each case names
 * the exact file:line and reason the verifier must give, or, for a field
 * that nothing else in the chain repeats, says that a recomputed plain chain
 * cannot show the change (docs/THREAT-MODEL.md: a regenerated plain log).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createChainWriter, generateSealKeys, loadVerifyKey, verify, writeSealKeys, type ChainWriterOptions, type VerifyKey } from '@chainlog/core'
import { tempDir } from './helpers/chain'
import { editStored, headerEdit, rechain, sha256 } from './helpers/rechain'

type Kind = 'plain' | 'hmac' | 'gzip' | 'sealed'
const KINDS: Kind[] = ['plain', 'hmac', 'gzip', 'sealed']
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)
const K = 2 // the attacked file: the third of the chain

let root: string
let key: Buffer
let verifyKey: VerifyKey
const templates: { [kind in Kind]?: string } = {}

const line = (i: number) => JSON.stringify({ level: 30, time: T0 + i * 1000, pid: 4242, msg: `payment ${i} booked`, amount: i * 7 })

beforeAll(async () => {
  root = tempDir('chainlog-matrix-')
  const keyFile = path.join(root, 'chain.key')
  fs.writeFileSync(keyFile, 'k'.repeat(64))
  key = Buffer.from('k'.repeat(64))
  const keys = writeSealKeys(path.join(root, 'keys'), generateSealKeys({ interval: 60_000, epochs: 30, start: T0 }))
  verifyKey = loadVerifyKey(keys.verifyKey)
  const options: { [kind in Kind]: Partial<ChainWriterOptions> } = {
    plain: {},
    hmac: { algorithm: 'hmac-sha256', keyFile },
    gzip: { compress: true },
    sealed: { sealKey: keys.sealKey, sealEvery: 5, sealInterval: 60_000 },
  }
  for (const kind of KINDS) {
    const dir = path.join(root, kind)
    fs.mkdirSync(dir)
    let clock = T0
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), size: 2500, now: () => clock, ...options[kind] })
    for (let i = 0; i < 50; i++) {
      clock = T0 + i * 1000
      w.write(line(i))
      if (i % 4 === 3) await w.flush()
    }
    await w.close()
    templates[kind] = dir
  }
}, 120_000)
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A fresh copy of a template log and its files in chain order. */
async function copy(kind: Kind): Promise<string[]> {
  const dir = path.join(root, `${kind}-${Math.random().toString(16).slice(2)}`)
  fs.cpSync(templates[kind]!, dir, { recursive: true })
  const report = await check(kind, dir)
  expect(report.ok).toBe(true)
  expect(report.files.length).toBeGreaterThan(K + 1)
  return report.files
}

function check(kind: Kind, dir: string) {
  return verify(dir, { ...(kind === 'hmac' && { key }), ...(kind === 'sealed' && { verifyKey }) })
}

type Header = Record<string, unknown>
/** One header field, and the change an attacker makes to it. */
const FIELDS: { [field: string]: (h: Header) => Header } = {
  v: (h) => ({ ...h, v: 2 }),
  alg: (h) => ({ ...h, alg: h.alg === 'blake3' ? 'sha256' : 'blake3' }),
  chain: (h) => ({ ...h, chain: 'ab'.repeat(16) }),
  index: (h) => ({ ...h, index: (h.index as number) + 1 }),
  file: (h) => ({ ...h, file: 'app.99.log' }),
  prevFile: (h) => ({ ...h, prevFile: 'app.77.log' }),
  prevHash: (h) => ({ ...h, prevHash: 'f'.repeat(64) }),
  seq: (h) => ({ ...h, seq: (h.seq as number) + 1 }),
  time: (h) => ({ ...h, time: new Date(Date.parse(h.time as string) + 3_600_000).toISOString() }),
  reason: (h) => ({ ...h, reason: 'restart' }),
}

/** Fields that no other record repeats: a plain chain recomputed after changing them is a new, valid chain. */
const UNCHECKED = new Set(['time', 'reason'])

describe.each(KINDS)('%s log', (kind) => {
  test.each(Object.keys(FIELDS))('header %s changed, hashes left: the file\'s line 1 breaks', async (field) => {
    const files = await copy(kind)
    editStored(files[K]!, (stored, at) => (at.line === 1 ? headerEdit(FIELDS[field]!)(stored) : stored))
    const report = await check(kind, path.dirname(files[0]!))
    expect(report.ok).toBe(false)
    expect(report.breaks[0]).toMatchObject({ file: files[K], line: 1 })
    expect(['HASH_MISMATCH', 'BAD_HEADER']).toContain(report.breaks[0]!.reason)
  })

  test.each(Object.keys(FIELDS))('header %s changed, every later hash recomputed with SHA-256', async (field) => {
    const files = await copy(kind)
    const lastOfPrevious = await lastHash(kind, files, K - 1)
    rechain(files.slice(K), sha256, (stored, at) => (at.file === 0 && at.line === 1 ? headerEdit(FIELDS[field]!)(stored) : stored), lastOfPrevious)
    const report = await check(kind, path.dirname(files[0]!))
    const first = report.breaks[0]
    if ((kind === 'plain' || kind === 'gzip') && UNCHECKED.has(field)) {
      // Nothing else in the chain repeats this field: the documented limit of an unkeyed, unsealed chain.
      expect(report.ok).toBe(true)
      return
    }
    expect(report.ok).toBe(false)
    if (kind === 'sealed' && (UNCHECKED.has(field) || field === 'file')) {
      // The chain links, but the seals signed the old hashes: the first seal after the change fails.
      expect(first!.reason).toMatch(/^SEAL_/)
      expect(first).toMatchObject({ file: files[K], line: firstSealLine(files[K]!) })
      return
    }
    if (field === 'file' && kind !== 'hmac') {
      // The next header names the previous file as it was created.
      expect(first).toMatchObject({ file: files[K + 1], line: 1, reason: 'BAD_HEADER', expected: 'app.99.log' })
      return
    }
    expect(first).toMatchObject({ file: files[K], line: 1 })
    expect(['HASH_MISMATCH', 'BAD_HEADER']).toContain(first!.reason)
  })
})

/** The 1-based line of the first seal record in a plain file. */
function firstSealLine(file: string): number {
  const n = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.slice(65, -65).startsWith('\\m{"t":"seal"'))
  expect(n).toBeGreaterThan(0)
  return n + 1
}

/** The last hash of file `n`, read back through the verifier's own report of a prefix. */
async function lastHash(kind: Kind, files: string[], n: number): Promise<string> {
  const report = await verify(files.slice(0, n + 1), { ...(kind === 'hmac' && { key }), ...(kind === 'sealed' && { verifyKey }) })
  return report.head!.hash
}
