/**
 * Verdicts an attacker cannot talk into VALID (#12): chains rewritten from
 * some record on, so that every link holds, and caught by the rules beyond
 * the links. Each case runs the built verify-log, sequential and parallel,
 * and asserts the exit status, the reason and the exact file:line.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, type Break } from '@chainlog/core'
import { editLine, hashOf, json, linesOf, oneLineError, pinoLine, tmpDir, verifyLog, writeChain } from '../packages/cli/test/helpers'
import { headerEdit, hmacWith, rechain, sha256 } from './helpers/rechain'

const LINES = Array.from({ length: 60 }, (_, i) => pinoLine(i))
const KEY = 'k'.repeat(64)

/** verify-log with --jobs 1 and with every core: both must give the same verdict. */
async function verdict(args: string[]): Promise<{ status: number | null; first: string; brk: Break | undefined }> {
  const seq = await verifyLog(['--jobs', '1', ...args])
  const par = await verifyLog(args)
  const asJson = await verifyLog(['--json', ...args])
  expect(par.status).toBe(seq.status)
  expect(par.stdout).toBe(seq.stdout)
  const report = json<{ breaks: Break[] }>(asJson)
  return { status: seq.status, first: seq.stdout.split('\n')[0]!, brk: report.breaks[0] }
}

async function hmacChain(): Promise<{ dir: string; files: string[]; key: string }> {
  const dir = tmpDir()
  const key = path.join(dir, 'chain.key')
  fs.writeFileSync(key, KEY)
  const logs = path.join(dir, 'logs')
  fs.mkdirSync(logs)
  const files = await writeChain(logs, LINES, { algorithm: 'hmac-sha256', keyFile: key, size: 3000 })
  expect(files.length).toBeGreaterThanOrEqual(4)
  return { dir: logs, files, key }
}

const unkeyed = headerEdit(({ keyId: _keyId, ...h }) => ({ ...h, alg: 'sha256' }))

describe('A1: a keyed chain re-declared unkeyed and recomputed with plain SHA-256', () => {
  test('every header downgraded, a line edited: with --key, BROKEN at the first header', async () => {
    const { dir, files, key } = await hmacChain()
    rechain(files, sha256, (stored, at) => unkeyed(at.file === 1 && at.line === 3 ? stored.replace('request 1', 'request 7') : stored))
    const r = await verdict(['--key', key, dir])
    expect(r.status).toBe(1)
    expect(r.first).toBe(`BROKEN: the chain is broken at ${files[0]}:1 (BAD_HEADER)`)
    expect(r.brk).toMatchObject({ file: files[0], line: 1, reason: 'BAD_HEADER', expected: 'hmac-sha256', found: 'sha256' })
    expect(r.brk!.message).toMatch(/a key was given, but this header declares sha256/)
  })

  test('downgraded from the third file on (the first files keep their HMAC): BROKEN at that header, with --key', async () => {
    const { dir, files, key } = await hmacChain()
    const keep = linesOf(files[1]!)
    rechain(files.slice(2), sha256, (stored, at) => unkeyed(at.line === 2 ? stored.replace('request', 'refund') : stored), hashOf(keep.at(-1)!))
    const r = await verdict(['--key', key, dir])
    expect(r.status).toBe(1)
    expect(r.first).toBe(`BROKEN: the chain is broken at ${files[2]}:1 (BAD_HEADER)`)
    expect(r.brk).toMatchObject({ file: files[2], line: 1, reason: 'BAD_HEADER', expected: 'hmac-sha256', found: 'sha256' })
  })

  test('the same downgrade given as the files alone (no directory): BROKEN at the same line', async () => {
    const { files, key } = await hmacChain()
    rechain(files.slice(2), sha256, unkeyed, hashOf(linesOf(files[1]!).at(-1)!))
    const r = await verdict(['--key', key, ...files])
    expect(r.status).toBe(1)
    expect(r.first).toBe(`BROKEN: the chain is broken at ${files[2]}:1 (BAD_HEADER)`)
  })

  test('a keyed chain moved to blake3 from the third file: also a break (blake3 is unkeyed too)', async () => {
    const { dir, files, key } = await hmacChain()
    // blake3 cannot be computed by node:crypto; the verifier rejects the header before any hash.
    rechain(files.slice(2), sha256, headerEdit(({ keyId: _k, ...h }) => ({ ...h, alg: 'blake3' })), hashOf(linesOf(files[1]!).at(-1)!))
    const r = await verdict(['--key', key, dir])
    expect(r.status).toBe(1)
    expect(r.brk).toMatchObject({ file: files[2], line: 1, reason: 'BAD_HEADER', expected: 'hmac-sha256', found: 'blake3' })
  })

  test('an untouched hmac chain still verifies with its key, and a plain chain is not hurt by the rule', async () => {
    const { dir, key } = await hmacChain()
    expect((await verdict(['--key', key, dir])).status).toBe(0)
    const plain = tmpDir()
    await writeChain(plain, LINES, { size: 3000 })
    expect((await verdict([plain])).status).toBe(0)
  })

  test('the whole chain recomputed under the right key (the key holder) still verifies: the rule is about keys, not content', async () => {
    const { dir, files, key } = await hmacChain()
    rechain(files, hmacWith(KEY), (stored) => stored.replace('request 5 served', 'request 5 served!'))
    expect((await verdict(['--key', key, dir])).status).toBe(0)
  })
})

describe('A4: header index rules (FORMAT.md §5.1)', () => {
  async function plainChain(): Promise<{ dir: string; files: string[] }> {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES, { size: 3000 })
    expect(files.length).toBeGreaterThanOrEqual(4)
    return { dir, files }
  }
  const raise = (by: number) => headerEdit((h) => ({ ...h, index: (h.index as number) + by }))

  test('the last file\'s index raised by 5, every hash recomputed: BROKEN at its line 1', async () => {
    const { dir, files } = await plainChain()
    const last = files.length - 1
    rechain(files, sha256, (stored, at) => (at.file === last ? raise(5)(stored) : stored))
    const r = await verdict([dir])
    expect(r.status).toBe(1)
    expect(r.first).toBe(`BROKEN: the chain is broken at ${files[last]}:1 (BAD_HEADER)`)
    expect(r.brk).toMatchObject({ file: files[last], line: 1, reason: 'BAD_HEADER', expected: String(last), found: String(last + 5) })
  })

  test('a middle file renumbered (and every later one with it): BROKEN at the renumbered file, not one file late as MISSING_FILE', async () => {
    const { dir, files } = await plainChain()
    rechain(files, sha256, (stored, at) => (at.file >= 1 ? raise(3)(stored) : stored))
    const r = await verdict([dir])
    expect(r.status).toBe(1)
    expect(r.first).toBe(`BROKEN: the chain is broken at ${files[1]}:1 (BAD_HEADER)`)
    expect(r.brk).toMatchObject({ file: files[1], line: 1, reason: 'BAD_HEADER', expected: '1', found: '4' })
  })

  test('a middle file\'s index raised without recomputing: BAD_HEADER at its line 1 (checked before its hash)', async () => {
    const { dir, files } = await plainChain()
    editLine(files[2]!, 1, raise(1))
    const r = await verdict([dir])
    expect(r.status).toBe(1)
    expect(r.brk).toMatchObject({ file: files[2], line: 1, reason: 'BAD_HEADER', expected: '2', found: '3' })
  })
})

describe('D: files that cannot be read are named, never taken for missing ones', () => {
  test('a rotated .gz without read permission (as an unprivileged user): exit 2, "permission denied", naming the file', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES, { size: 3000, compress: true })
    const gz = files.find((f) => f.endsWith('.gz'))!
    expect(gz).toBeDefined()
    fs.chmodSync(gz, 0o600) // owned by root: unreadable for nobody
    for (const input of [dir, path.join(dir, 'app.log')]) {
      const r = await verifyLog([input], { user: 65534 })
      expect(r.status).toBe(2)
      expect(r.stdout).toBe('')
      expect(oneLineError(r)).toBe(`verify-log: ${gz}: permission denied`)
    }
  })
})

describe('A1, the writer side: a keyed chain is never continued unkeyed', () => {
  test('reopening an hmac-sha256 log with sha256 or blake3 is refused, and the files stay as they were', async () => {
    const { dir, files, key } = await hmacChain()
    const before = files.map((f) => fs.readFileSync(f))
    for (const algorithm of ['sha256', 'blake3'] as const) {
      await expect(createChainWriter({ file: path.join(dir, 'app.log'), algorithm })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringContaining(`${files.at(-1)} belongs to an hmac-sha256 chain, which cannot continue as ${algorithm}`),
      })
    }
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()).toEqual(files.map((f) => path.basename(f)).sort())
    files.forEach((f, i) => expect(fs.readFileSync(f).equals(before[i]!)).toBe(true))
    expect((await verdict(['--key', key, dir])).status).toBe(0)
  })
})
