/**
 * verify-log --verify-key and --as-of (issue #7) on sealed chains written by
 * the core writer on a clock the test sets, so that every line of the report
 * is known exactly: coverage, last seal, final records not sealed, closing
 * seal, and each seal break with its file:line, in text and in --json.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, generateSealKeys, writeSealKeys } from '@chainlog/core'
import { forge, json, keepLines, linesOf, oneLineError, pinoLine, tmpDir, verifyLog } from './helpers'

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)
const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A sealed chain in dir/app.1.log: the writer's start seal, three groups of
 * 10 records, each followed by an interval seal (sealEvery 10), then 4
 * records and the closing seal. Line numbers: 1 header, 2 start seal, 3-12,
 * 13 seal, 14-23, 24 seal, 25-34, 35 seal, 36-39 records, 40 closing seal.
 * Record i is logged at T0 + i s.
 */
async function sealedChain(options: { algorithm?: 'hmac-sha256'; keyFile?: string } = {}): Promise<{ dir: string; file: string; verifyKey: string; sealKey: string }> {
  const dir = tmpDir()
  const { verifyKey, sealKey } = writeSealKeys(path.join(dir, 'keys'), generateSealKeys({ interval: 60_000, epochs: 60, start: T0 }))
  let clock = T0
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), sealKey, sealEvery: 10, sealInterval: 60_000, now: () => clock, chainId: 'c0ffee00c0ffee00c0ffee00c0ffee00', ...options })
  let i = 0
  for (const group of [10, 10, 10, 4]) {
    for (let k = 0; k < group; k++, i++) {
      clock = T0 + i * 1000
      w.write(pinoLine(i, T0))
    }
    await w.flush()
  }
  clock = T0 + 34_000
  await w.close()
  return { dir, file: path.join(dir, 'app.1.log'), verifyKey, sealKey }
}

/** Rewrites the stored line of record n and re-hashes it and every record after it, as someone without the sealing key can. */
function rewriteFrom(file: string, n: number, edit: (stored: string) => string): void {
  const lines = linesOf(file).map(String)
  let prev = lines[n - 2]!.slice(-64)
  const out = lines.map((l, k) => {
    if (k < n - 1) return l
    const f = forge(prev, k === n - 1 ? edit(l.slice(65, -65)) : l.slice(65, -65)).toString()
    prev = f.slice(-64)
    return f
  })
  fs.writeFileSync(file, out.join('\n') + '\n')
}

interface SealJson {
  ok: boolean
  status: string
  breaks: { file: string; line: number; reason: string; message: string }[]
  seals: { key: string; valid: number; sealedThrough: number; unsealed: number; lastSealTime: number | null; closed: boolean; lastKind: string | null; notices?: { file: string }[] }
}

describe('verify-log --verify-key', () => {
  test('an intact sealed chain: VALID, sealed through its last record, ending with a closing seal', async () => {
    const { dir, file, verifyKey } = await sealedChain()
    expect(linesOf(file)).toHaveLength(40)
    const r = await verifyLog(['--verify-key', verifyKey, path.join(dir, 'app.log')])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const id = JSON.parse(fs.readFileSync(verifyKey, 'utf8')).id
    expect(r.stdout).toContain(
      `  seals      5 valid seals (key ${id}): sealed through record 40 of the chain\n` +
        `  last seal  ${iso(T0 + 34_000)} (close)\n` +
        '  unsealed   0 final records not sealed\n' +
        '  end        closing seal: the writer shut down cleanly\n',
    )
    const j = json<SealJson>(await verifyLog(['--json', '--verify-key', verifyKey, file]))
    expect(j).toMatchObject({ ok: true, status: 'VALID', breaks: [], seals: { key: id, valid: 5, sealedThrough: 40, unsealed: 0, lastSealTime: T0 + 34_000, closed: true, lastKind: 'close' } })
    // Without --verify-key the report says nothing about seals.
    const plain = await verifyLog(['--json', file])
    expect(json(plain)).not.toHaveProperty('seals')
    expect((await verifyLog([file])).stdout).not.toContain('seal')
  })

  test('a tail cut after the last seal but one: VALID, 4 final records not sealed, no closing seal; with --as-of, SEAL_STALE at the last seal', async () => {
    const { file, verifyKey } = await sealedChain()
    keepLines(file, 39)
    const r = await verifyLog(['--verify-key', verifyKey, file])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(r.stdout).toContain(
      `sealed through record 35 of the chain\n` +
        `  last seal  ${iso(T0 + 29_000)} (interval)\n` +
        '  unsealed   4 final records not sealed\n' +
        '  end        no closing seal: the writer is still running, crashed or was killed, or the end of the log was cut off\n',
    )
    const asOf = iso(T0 + 600_000)
    const stale = await verifyLog(['--verify-key', verifyKey, '--as-of', asOf, file])
    expect(stale.status).toBe(1)
    expect(stale.stdout).toMatch(new RegExp(`^BROKEN: the seals stop at ${file}:35, long before the end of the log \\(SEAL_STALE\\)\n\n${file}:35 \\(byte [\\d,]+\\)\n  reason     SEAL_STALE: seals stop here, at ${iso(T0 + 29_000)}, long before ${asOf}, and the log has no closing seal: its tail may have been cut\n`))
    expect(stale.stdout).toContain('  head       none to trust: the seals fail\n')
    expect(stale.stdout).toContain('  unsealed   4 final records not sealed\n')
    const j = json<SealJson>(await verifyLog(['--json', '--verify-key', verifyKey, '--as-of', asOf, file]))
    expect(j.status).toBe('BROKEN')
    expect(j.breaks.map((b) => [b.file, b.line, b.reason])).toEqual([[file, 35, 'SEAL_STALE']])
    expect(j.seals).toMatchObject({ valid: 4, sealedThrough: 35, unsealed: 4, closed: false, lastKind: 'interval' })
    // Within the heartbeat promise (2 × 60 s + 5 s) it is not stale yet.
    expect((await verifyLog(['--verify-key', verifyKey, '--as-of', iso(T0 + 29_000 + 125_000), file])).status).toBe(0)
    expect((await verifyLog(['--verify-key', verifyKey, '--as-of', iso(T0 + 29_000 + 125_001), file])).status).toBe(1)
  })

  test('a chain that ends with a closing seal is never stale, whatever --as-of', async () => {
    const { file, verifyKey } = await sealedChain()
    expect((await verifyLog(['--verify-key', verifyKey, '--as-of', 'now', file])).status).toBe(0)
    expect((await verifyLog(['--verify-key', verifyKey, '--as-of', '2099-01-01', file])).status).toBe(0)
  })

  test('a log written without seals: SEALS_MISSING at its first line, exit 1', async () => {
    const { dir, verifyKey } = await sealedChain()
    const w = await createChainWriter({ file: path.join(dir, 'plain', 'app.log'), mkdir: true })
    w.write(pinoLine(0))
    await w.close()
    const file = path.join(dir, 'plain', 'app.1.log')
    const r = await verifyLog(['--verify-key', verifyKey, file])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^BROKEN: no record is covered by a valid seal \\(SEALS_MISSING\\)\n\n${file}:1 \\(byte 0\\)\n  reason     SEALS_MISSING: no record is covered by a valid seal`))
    expect(r.stdout).toMatch(/ {2}seals {6}none valid for key [0-9a-f]{16}: no record is covered by a valid seal\n {2}unsealed {3}2 final records not sealed\n/)
  })

  test('a record rewritten and re-hashed before a seal: SEAL_MISPLACED at that seal, and only valid seals before it are counted', async () => {
    const { file, verifyKey } = await sealedChain()
    const before = fs.readFileSync(file, 'utf8')
    rewriteFrom(file, 16, (s) => s.replace('request 12 served', 'request 12 refused'))
    expect(fs.readFileSync(file, 'utf8')).not.toBe(before)
    const r = await verifyLog(['--verify-key', verifyKey, file])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^BROKEN: the seal at ${file}:24 cannot be trusted \\(SEAL_MISPLACED\\)\n`))
    expect(r.stdout).toContain('  reason     SEAL_MISPLACED: the seal signs another head than the record before it: the records it covers were rewritten\n')
    expect(r.stdout).toContain('2 valid seals (key')
    expect(r.stdout).toContain(' before the break: sealed through record 13 of the chain\n')
    expect(r.stdout).not.toContain('unsealed')
    // The hashes alone see nothing.
    expect((await verifyLog([file])).status).toBe(0)
    // --all reads on: every later seal fails too, and the whole chain is judged.
    const all = json<SealJson>(await verifyLog(['--json', '--all', '--verify-key', verifyKey, file]))
    expect(all.breaks.map((b) => [b.line, b.reason])).toEqual([[24, 'SEAL_MISPLACED'], [35, 'SEAL_MISPLACED'], [40, 'SEAL_MISPLACED']])
    expect(all.seals).toMatchObject({ valid: 2, sealedThrough: 13, unsealed: 27, closed: false })
  })

  test('parallel (a file over 16 MiB) and sequential (stdin) verification judge the seals alike', async () => {
    const dir = tmpDir()
    const { verifyKey, sealKey } = writeSealKeys(path.join(dir, 'keys'), generateSealKeys({ interval: 60_000, epochs: 60, start: T0 }))
    let clock = T0
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), sealKey, sealEvery: 1000, sealInterval: 60_000, now: () => clock, size: 1 << 30 })
    for (let i = 0; i < 130_000; i++) {
      clock = T0 + i * 10
      if (!w.write(pinoLine(0, clock))) await new Promise<void>((resolve) => w.once('drain', () => resolve()))
    }
    await w.close()
    const file = path.join(dir, 'app.1.log')
    expect(fs.statSync(file).size).toBeGreaterThan(16 * 1024 * 1024)
    // Forge the signature of a seal in the middle and re-hash the chain from there.
    const lines = linesOf(file).map(String)
    const n = lines.findIndex((l, k) => k > lines.length / 2 && l.includes('\\m{"t":"seal"')) + 1
    rewriteFrom(file, n, (s) => s.replace(/"sig":"(.)/, (_m, c: string) => `"sig":"${c === '0' ? '1' : '0'}`))
    const args = ['--json', '--all', '--verify-key', verifyKey]
    const par = json<SealJson>(await verifyLog([...args, '--jobs', '2', file]))
    const seq = json<SealJson>(await verifyLog([...args, '-'], { input: fs.readFileSync(file) }))
    // The seal fails, and every later one signs a head that is no longer there.
    expect(par.breaks[0]).toMatchObject({ file, line: n, reason: 'SEAL_INVALID', message: 'seal does not verify: the signature does not verify' })
    // With --all the end is judged too: the valid seals stop at the last seal before the forged one, ten minutes before the last record.
    const lastValid = lines.slice(0, n - 1).findLastIndex((l) => l.includes('\\m{"t":"seal"')) + 1
    expect(par.breaks.at(-1)).toMatchObject({ file, line: lastValid, reason: 'SEAL_STALE' })
    expect(par.breaks.slice(1, -1).map((b) => b.reason)).toEqual(Array(par.breaks.length - 2).fill('SEAL_MISPLACED'))
    expect(seq.breaks).toEqual(par.breaks.map((b) => ({ ...b, file: '-' })))
    // A notice (CLOCK_BACK, when a seal waited for the queue while the clock moved on) names its file as each read it.
    expect(seq.seals).toEqual({ ...par.seals, ...(par.seals.notices && { notices: par.seals.notices.map((x) => ({ ...x, file: '-' })) }) })
    expect(par.seals.valid).toBe(lines.slice(0, n - 1).filter((l) => l.includes('\\m{"t":"seal"')).length)
    expect(par.seals.valid).toBeGreaterThan(50)
  })

  test('--verify-key with --key (an hmac-sha256 chain) and with --checkpoint', async () => {
    const dir0 = tmpDir()
    const keyFile = path.join(dir0, 'chain.key')
    fs.writeFileSync(keyFile, 'k'.repeat(64))
    const { file, verifyKey } = await sealedChain({ algorithm: 'hmac-sha256', keyFile })
    expect((await verifyLog(['--verify-key', verifyKey, file])).status).toBe(2)
    const r = await verifyLog(['--key', keyFile, '--verify-key', verifyKey, file])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('  algorithm  hmac-sha256\n')
    expect(r.stdout).toContain('  end        closing seal: the writer shut down cleanly\n')
    const head = JSON.parse((await verifyLog(['--json', '--key', keyFile, file])).stdout)
    const checkpoint = path.join(dir0, 'head.json')
    fs.writeFileSync(checkpoint, JSON.stringify({ hash: head.head, count: head.count }))
    const both = await verifyLog(['--key', keyFile, '--verify-key', verifyKey, '--checkpoint', checkpoint, file])
    expect(both.status).toBe(0)
    expect(both.stdout).toContain('  checkpoint reached: head ')
    // Cut the closing seal: TRUNCATED by the checkpoint, while the seals alone (no --as-of) still pass.
    keepLines(file, 39)
    const cut = json<SealJson & { checkpoint: { reached: boolean } }>(await verifyLog(['--json', '--key', keyFile, '--verify-key', verifyKey, '--checkpoint', checkpoint, file]))
    expect(cut).toMatchObject({ ok: false, status: 'TRUNCATED', breaks: [], checkpoint: { reached: false }, seals: { closed: false, unsealed: 4 } })
  })

  test.each([
    ['a file that is not JSON', (d: string) => (fs.writeFileSync(path.join(d, 'v.key'), 'hello'), path.join(d, 'v.key')), (p: string) => `verify-log: ${p}: not a chainlog verification key (not JSON)`],
    ['seal.key instead of verify.key', (d: string) => path.join(d, 'keys', 'seal.key'), (p: string) => `verify-log: ${p}: this is a sealing state (seal.key), not a verification key; give verify.key`],
    ['a missing file', (d: string) => path.join(d, 'nope.key'), (p: string) => `verify-log: ${p}: cannot read the verification key (ENOENT)`],
    ['an hmac key file', (d: string) => (fs.writeFileSync(path.join(d, 'chain.key'), 'k'.repeat(64)), path.join(d, 'chain.key')), (p: string) => `verify-log: ${p}: not a chainlog verification key (not JSON)`],
  ])('a bad --verify-key (%s): one line, exit 2', async (_name, make, message) => {
    const { dir, file } = await sealedChain()
    const key = make(dir)
    const r = await verifyLog(['--verify-key', key, file])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(oneLineError(r)).toBe(message(key))
    const j = await verifyLog(['--json', '--verify-key', key, file])
    expect(j.status).toBe(2)
    expect(json(j)).toMatchObject({ ok: false, status: 'ERROR', error: { code: 'BAD_KEY', path: key } })
  })

  test.each([
    [['--as-of', 'now'], 'verify-log: --as-of judges the seals of a log; give the verification key with --verify-key'],
    [['--verify-key', 'K', '--as-of', 'yesterday'], 'verify-log: --as-of must be an ISO 8601 time (2026-11-22T10:00:00Z) or now; got "yesterday"'],
    [['--verify-key', 'K', '--as-of', '1795341600000'], 'verify-log: --as-of must be an ISO 8601 time (2026-11-22T10:00:00Z) or now; got "1795341600000"'],
    [['--verify-key', 'K', '--as-of', '2026-13-45T99:00:00Z'], 'verify-log: --as-of must be an ISO 8601 time (2026-11-22T10:00:00Z) or now; got "2026-13-45T99:00:00Z"'],
  ])('usage %j: one line, exit 2', async (args, message) => {
    const { dir, file, verifyKey } = await sealedChain()
    const r = await verifyLog(args.map((a) => (a === 'K' ? verifyKey : a)).concat(file), { cwd: dir })
    expect(r.status).toBe(2)
    expect(oneLineError(r)).toBe(message)
  })

  test('verify-log --help documents --verify-key and --as-of', async () => {
    const r = await verifyLog(['--help'])
    expect(r.stdout).toContain('      --verify-key <file>    check the seals against this verification key')
    expect(r.stdout).toContain('      --as-of <time|now>     with --verify-key:')
  })
})
