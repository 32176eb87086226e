// Forward-secure seals under attack (issue #7, docs/FORMAT.md §13.4). Every
// log here is written by the real transports (pino in a worker thread,
// winston in this process, a pino child process killed with SIGKILL, several
// writers at once), every attack is mounted on those files the way an
// intruder with write access (and, where said, a copy of a key) can, and the
// verdict comes from the built `verify-log` run as a child process: its exit
// status, the reason code and the exact file:line from --json.
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ChainlogError, generateSealKeys, loadKey, loadVerifyKey, writeSealKeys, type VerifyKey } from '@chainlog/core'
import { createHashFn } from '@chainlog/core/format'
import { chainFiles, tempDir } from './helpers/chain'
import { copyLog, isSeal, isUser, newestTime, readChain, regenerate, resignWith, sealerFrom, sealOf, timeOf, type Entry } from './helpers/seal-forge'
import { CHAINLOG, cli, crashedPino, pinoSealed, pinoThread, VERIFY_LOG, verifyJson, winstonProcess, winstonSealed } from './helpers/seal-writers'

let root: string
/** Key 1 (made by `chainlog keygen`, 2 s epochs): the main pino log P and its twin P2. */
let k1: { dir: string; verify: string; key: VerifyKey; kept: string; stolen: string }
const logs: { [name: string]: string } = {}
const keys: { [name: string]: string } = {}
const writerErrors: { [name: string]: string[] } = {}
let hmacKeyFile: string
let crash: { signal: NodeJS.Signals | null }

/** A fresh copy of template log `name`; returns its base path (dir/app.log). */
function fresh(name: string): string {
  const dir = copyLog(path.dirname(logs[name]!), path.join(root, `${name}-${crypto.randomBytes(4).toString('hex')}`))
  return path.join(dir, 'app.log')
}
const dirOf = (base: string) => path.dirname(base)
const iso = (ms: number) => new Date(ms).toISOString()
const SEAL_EVERY_MS = 200

beforeAll(async () => {
  root = tempDir('chainlog-seal-attacks-')
  const dir = (name: string) => path.join(root, name)
  // Key 1 through the CLI. The attacker of some tests kept a copy of seal.key
  // from the day it was made (epoch 0); P2 seals with its own copy of the
  // same key.
  const kg = await cli(CHAINLOG, ['keygen', '--out', dir('k1'), '--interval', '2s', '--epochs', '1000', '--heartbeat', `${SEAL_EVERY_MS}ms`])
  expect(kg.status, kg.stderr).toBe(0)
  k1 = { dir: dir('k1'), verify: path.join(dir('k1'), 'verify.key'), key: loadVerifyKey(path.join(dir('k1'), 'verify.key')), kept: dir('kept-seal.key'), stolen: dir('stolen-seal.key') }
  fs.copyFileSync(path.join(k1.dir, 'seal.key'), k1.kept)
  fs.mkdirSync(dir('k1-twin'))
  fs.copyFileSync(path.join(k1.dir, 'seal.key'), path.join(dir('k1-twin'), 'seal.key'))
  for (const name of ['w', 'c', 'm', 'h']) keys[name] = writeSealKeys(dir(`k-${name}`), generateSealKeys({ interval: name === 'm' ? 1000 : 2000, epochs: 100, heartbeat: name === 'c' ? 60_000 : SEAL_EVERY_MS })).verifyKey
  // A key that expires while its log is still being written, 6 to 7 s from now (time for seven writers to start on a busy machine).
  const startE = Math.floor(Date.now() / 1000) * 1000 - 1000
  keys.e = writeSealKeys(dir('k-e'), generateSealKeys({ interval: 1000, epochs: 8, start: startE, heartbeat: 100 })).verifyKey
  const expiresE = startE + 8000
  hmacKeyFile = dir('chain.key')
  fs.writeFileSync(hmacKeyFile, crypto.randomBytes(32).toString('hex') + '\n')
  const sealKey = (name: string) => path.join(dir(name), 'seal.key')
  for (const name of ['p', 'p2', 'w', 'c', 'e', 'm', 'h']) logs[name] = path.join(dir(`log-${name}`), 'app.log')

  const m = { sealKey: sealKey('k-m'), sealEvery: 25, sealInterval: SEAL_EVERY_MS }
  const [p, p2, w, c, e, , h] = await Promise.all([
    // P: a burst (an interval seal), idle (heartbeats), then a line every 150 ms for
    // about 7 s across 2 s epochs, rotating at 20 kB, idle again, and the closing seal.
    pinoSealed(logs.p!, { sealKey: sealKey('k1'), sealEvery: 20, sealInterval: SEAL_EVERY_MS, size: '20k' }, [{ lines: 30 }, { idle: 500 }, { lines: 45, every: 150 }, { idle: 500 }]),
    pinoSealed(logs.p2!, { sealKey: sealKey('k1-twin'), sealEvery: 5, sealInterval: SEAL_EVERY_MS }, [{ lines: 12 }, { idle: 300 }]),
    winstonSealed(logs.w!, { sealKey: sealKey('k-w'), sealEvery: 10, sealInterval: SEAL_EVERY_MS }, [{ lines: 25 }, { idle: 400 }, { lines: 15, every: 20 }]),
    // C: 20 lines and their seal (sealEvery 20), a pause, 7 more lines, then SIGKILL. No heartbeat in between (60 s).
    crashedPino(logs.c!, { sealKey: sealKey('k-c'), sealEvery: 20, sealInterval: 60_000 }, 20, 7, 300),
    // E: sealed at once, then a line every 100 ms until 6.5 s after the key ran out.
    pinoSealed(logs.e!, { sealKey: sealKey('k-e'), sealEvery: 5, sealInterval: 100 }, [{ lines: 5 }, { until: expiresE + 6500, every: 100 }]),
    // M: two pino worker threads and one winston process on one log, 1 s epochs.
    Promise.all([pinoThread(logs.m!, 'thread-a', 150, m, 10, 150), pinoThread(logs.m!, 'thread-b', 150, m, 10, 150), winstonProcess(logs.m!, 'proc-c', 150, m, 10, 150)]),
    pinoSealed(logs.h!, { sealKey: sealKey('k-h'), algorithm: 'hmac-sha256', keyFile: hmacKeyFile, sealEvery: 10, sealInterval: SEAL_EVERY_MS }, [{ lines: 30, every: 10 }, { idle: 300 }]),
  ])
  Object.assign(writerErrors, { p, p2, w, e, h })
  crash = c
  // What an intruder copies from the host once P is done: seal.key as it is now.
  fs.copyFileSync(path.join(k1.dir, 'seal.key'), k1.stolen)
}, 60_000)

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** The seals of a chain, in order. */
const sealsOf = (es: Entry[]) => es.filter(isSeal)

describe('the logs as written', () => {
  test('P (pino): seals of every kind over several epochs and files; an intact sealed log verifies, with its closing seal reported', async () => {
    expect(writerErrors.p).toEqual([])
    const es = readChain(dirOf(logs.p!))
    const seals = sealsOf(es)
    const kinds = new Set(seals.map((s) => sealOf(s).kind))
    for (const kind of ['interval', 'heartbeat', 'rotation', 'close']) expect(kinds, kind).toContain(kind)
    expect(new Set(seals.map((s) => sealOf(s).epoch)).size).toBeGreaterThanOrEqual(3)
    expect(chainFiles(dirOf(logs.p!)).length).toBeGreaterThanOrEqual(3)
    expect(es.at(-1)).toBe(seals.at(-1))
    const close = sealOf(seals.at(-1)!)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, logs.p!])
    expect(status).toBe(0)
    expect(report).toMatchObject({ ok: true, status: 'VALID', breaks: [], seals: { key: k1.key.id, valid: seals.length, sealedThrough: es.length, unsealed: 0, lastSealTime: close.time, closed: true, lastKind: 'close' } })
    const text = await cli(VERIFY_LOG, ['--verify-key', k1.verify, logs.p!])
    expect(text.status).toBe(0)
    expect(text.stdout).toContain(
      `  seals      ${seals.length} valid seals (key ${k1.key.id}): sealed through record ${es.length} of the chain\n` +
        `  last seal  ${iso(close.time)} (close)\n` +
        '  unsealed   0 final records not sealed\n' +
        '  end        closing seal: the writer shut down cleanly\n',
    )
  })

  test('W (winston): an intact sealed log verifies; the same log against another key is SEAL_INVALID at its first seal', async () => {
    expect(writerErrors.w).toEqual([])
    const es = readChain(dirOf(logs.w!))
    const first = sealsOf(es)[0]!
    expect((await verifyJson(['--verify-key', keys.w!, logs.w!])).report).toMatchObject({ ok: true, seals: { closed: true, unsealed: 0 } })
    const { status, report } = await verifyJson(['--verify-key', k1.verify, logs.w!])
    expect(status).toBe(1)
    expect(report.breaks).toHaveLength(1)
    expect(report.breaks[0]).toMatchObject({ file: first.file, line: first.line, reason: 'SEAL_INVALID', message: `seal does not verify: sealed with key ${sealOf(first).key}, not ${k1.key.id}` })
  })

  test('several writers on one log (2 pino worker threads, 1 winston process) seal one chain between them, across epochs', async () => {
    const es = readChain(dirOf(logs.m!))
    const seals = sealsOf(es)
    const users = es.filter(isUser).map((e) => JSON.parse(e.stored) as { w: string; i: number })
    for (const w of ['thread-a', 'thread-b', 'proc-c']) expect(users.filter((u) => u.w === w).map((u) => u.i)).toEqual(Array.from({ length: 150 }, (_, i) => i))
    expect(new Set(seals.map((s) => sealOf(s).epoch)).size).toBeGreaterThanOrEqual(2)
    // One closing seal per writer, the last record being the last one.
    expect(seals.filter((s) => sealOf(s).kind === 'close')).toHaveLength(3)
    expect(es.at(-1)).toBe(seals.at(-1))
    const { status, report } = await verifyJson(['--verify-key', keys.m!, logs.m!])
    expect(report.breaks).toEqual([])
    expect(status).toBe(0)
    expect(report.seals).toMatchObject({ valid: seals.length, sealedThrough: es.length, unsealed: 0, closed: true })
  })
})

describe('a chain regenerated without the sealing key', () => {
  test('a record rewritten and every hash after it recomputed, seals kept: SEAL_MISPLACED at the next seal (the hashes alone see nothing)', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const target = es.filter(isUser)[40]!
    regenerate(dirOf(base), es.map((e) => (e === target ? { ...e, stored: e.stored.replace('"status":200', '"status":500') } : e)))
    expect(readChain(dirOf(base)).find((e) => e.file === target.file && e.line === target.line)!.stored).toContain('"status":500')
    expect((await cli(VERIFY_LOG, [base])).status).toBe(0)
    const next = es.slice(es.indexOf(target)).find(isSeal)!
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: next.file, line: next.line, reason: 'SEAL_MISPLACED', message: 'the seal signs another head than the record before it: the records it covers were rewritten' })])
  })

  test('rebuilt from scratch as a new chain with the old seals copied in: SEAL_MISPLACED (another chain) at the first seal', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    regenerate(dirOf(base), es, { chain: 'f'.repeat(32) })
    expect((await cli(VERIFY_LOG, [base])).status).toBe(0)
    const first = sealsOf(es)[0]!
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: first.file, line: first.line, reason: 'SEAL_MISPLACED', message: 'the seal was made for another chain', expected: 'f'.repeat(32) })])
  })

  test('rewritten with every seal dropped: SEALS_MISSING at the start of the chain', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const target = es.filter(isUser)[3]!
    regenerate(dirOf(base), es.filter((e) => !isSeal(e)).map((e) => (e === target ? { ...e, stored: e.stored.replace('request served', 'request refused') } : e)))
    expect((await cli(VERIFY_LOG, [base])).status).toBe(0)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: chainFiles(dirOf(base))[0], line: 1, reason: 'SEALS_MISSING' })])
    expect(report.seals).toMatchObject({ valid: 0, sealedThrough: 0, unsealed: es.filter((e) => !isSeal(e)).length, closed: false })
  })
})

describe('seals stripped out, the chain re-hashed', () => {
  test('every seal (winston log): SEALS_MISSING at line 1, and the report says no record is sealed', async () => {
    const base = fresh('w')
    const es = readChain(dirOf(base))
    const left = es.filter((e) => !isSeal(e))
    regenerate(dirOf(base), left)
    expect((await cli(VERIFY_LOG, [base])).status).toBe(0)
    const { status, report } = await verifyJson(['--verify-key', keys.w!, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: es[0]!.file, line: 1, reason: 'SEALS_MISSING', message: 'no record is covered by a valid seal: the log was not sealed with this key, its seals were stripped, or it was rebuilt without the sealing key' })])
    const text = await cli(VERIFY_LOG, ['--verify-key', keys.w!, base])
    expect(text.stdout).toMatch(/^BROKEN: no record is covered by a valid seal \(SEALS_MISSING\)\n/)
    expect(text.stdout).toContain(`  unsealed   ${left.length} final records not sealed\n`)
  })

  test('one seal: SEAL_MISPLACED at the next remaining seal, which now sits one line earlier in the chain', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const [s1, s2] = sealsOf(es)
    expect(s2!.file).toBe(s1!.file)
    regenerate(dirOf(base), es.filter((e) => e !== s1))
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    const at = sealOf(s2!).count
    expect(report.breaks).toEqual([expect.objectContaining({ file: s2!.file, line: s2!.line - 1, reason: 'SEAL_MISPLACED', expected: String(at - 1), found: String(at) })])
  })

  test('the seals of the last seconds, records kept: SEAL_STALE at the last seal left, without --as-of (the records go on long after it)', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const lastTime = timeOf(es.filter(isUser).at(-1)!)
    // The last seal more than 2 × 200 ms + 5 s before the last record.
    const keep = sealsOf(es).filter((s) => sealOf(s).time < lastTime - 6000).at(-1)!
    expect(keep).toBeDefined()
    const cut = es.indexOf(keep)
    const left = es.filter((e, i) => i <= cut || !isSeal(e))
    regenerate(dirOf(base), left)
    const newest = newestTime(left.slice(cut + 1))
    expect(newest - lastTime).toBeLessThan(50)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: keep.file, line: keep.line, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(sealOf(keep).time)}, but records go on to ${iso(newest)}; the writer promised a seal every 200 ms` })])
    expect(report.seals).toMatchObject({ closed: false, lastSealTime: sealOf(keep).time })
  })
})

describe('the tail cut off past the last seal', () => {
  /**
   * P cut, at a record boundary, after the records that follow a seal made at
   * least 6 s before the closing seal: the seal kept last, and how many
   * records after it are left.
   */
  function cutTail(base: string): { keep: Entry; closeTime: number; left: number; unsealed: number } {
    const es = readChain(dirOf(base))
    const closeTime = sealOf(sealsOf(es).at(-1)!).time
    const keep = sealsOf(es).filter((s) => sealOf(s).time < closeTime - 6000 && isUser(es[es.indexOf(s) + 1]!)).at(-1)!
    expect(keep).toBeDefined()
    let left = es.indexOf(keep) + 1
    while (isUser(es[left]!)) left++
    regenerate(dirOf(base), es.slice(0, left))
    return { keep, closeTime, left, unsealed: left - es.indexOf(keep) - 1 }
  }

  test('without --as-of: VALID, but the report says how many final records are not sealed, and that there is no closing seal', async () => {
    const base = fresh('p')
    const { keep, left, unsealed } = cutTail(base)
    expect(chainFiles(dirOf(base)).at(-1)).toBe(keep.file)
    const text = await cli(VERIFY_LOG, ['--verify-key', k1.verify, base])
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(text.stdout).toContain(
      `: sealed through record ${left - unsealed} of the chain\n` +
        `  last seal  ${iso(sealOf(keep).time)} (${sealOf(keep).kind})\n` +
        `  unsealed   ${unsealed} final ${unsealed === 1 ? 'record' : 'records'} not sealed\n` +
        '  end        no closing seal: the writer is still running, crashed or was killed, or the end of the log was cut off\n',
    )
  })

  test('with --as-of the time the service was known to run: SEAL_STALE at the last seal left', async () => {
    const base = fresh('p')
    const { keep, closeTime } = cutTail(base)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, '--as-of', iso(closeTime), base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: keep.file, line: keep.line, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(sealOf(keep).time)}, long before ${iso(closeTime)}, and the log has no closing seal: its tail may have been cut` })])
    // --as-of now says the same; the intact log, which ends with its closing seal, passes both.
    expect((await verifyJson(['--verify-key', k1.verify, '--as-of', 'now', base])).report.breaks[0]).toMatchObject({ file: keep.file, line: keep.line, reason: 'SEAL_STALE' })
    expect((await verifyJson(['--verify-key', k1.verify, '--as-of', 'now', logs.p!])).status).toBe(0)
  })
})

describe('a seal made with the wrong key', () => {
  test("the attacker's own keys (another keygen), every seal re-signed at its new place and claiming the real key's id: SEAL_INVALID at the first seal", async () => {
    const base = fresh('p')
    const evil = writeSealKeys(path.join(root, `evil-${crypto.randomBytes(4).toString('hex')}`), generateSealKeys({ interval: k1.key.interval, epochs: k1.key.epochs, start: k1.key.start }))
    const sealer = sealerFrom(root, evil.sealKey)
    const es = readChain(dirOf(base))
    const target = es.filter(isUser)[10]!
    regenerate(dirOf(base), es.map((e) => (e === target ? { ...e, stored: e.stored.replace('/api/orders', '/api/refunds') } : e)), {
      resign: (old, at) => ({ ...resignWith(sealer, old, at), key: k1.key.id }),
    })
    const first = sealsOf(es)[0]!
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: first.file, line: first.line, reason: 'SEAL_INVALID', message: `seal does not verify: the public key is not the key of epoch ${sealOf(first).epoch}` })])
  })
})

describe('an epoch or seal time going backwards (re-signed with a copy of seal.key kept from epoch 0)', () => {
  test('a seal re-signed for epoch 0 after seals of later epochs: SEAL_TIME at it', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const seals = sealsOf(es)
    const k = seals.findIndex((s, i) => i > 0 && sealOf(s).epoch >= 2 && sealOf(seals[i - 1]!).epoch >= 1)
    expect(k).toBeGreaterThan(0)
    const victim = seals[k]!
    const sealer = sealerFrom(root, k1.kept)
    const back = k1.key.start + 100
    // The victim and every seal after it are re-signed (no line moves, so old.count is the seal's place).
    regenerate(dirOf(base), es, { resign: (old, at) => (old.count >= sealOf(victim).count ? resignWith(sealer, old, at, old.count === sealOf(victim).count ? back : old.time) : undefined) })
    const forged = sealOf(readChain(dirOf(base)).find((e) => e.file === victim.file && e.line === victim.line)!)
    expect(forged).toMatchObject({ epoch: 0, time: back })
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    const prev = sealOf(seals[k - 1]!)
    expect(report.breaks).toEqual([expect.objectContaining({ file: victim.file, line: victim.line, reason: 'SEAL_TIME', message: `seal time goes backwards: ${iso(back)} (epoch 0) after ${iso(prev.time)} (epoch ${prev.epoch})` })])
  })

  test('a seal re-signed a millisecond before the seal ahead of it, in the same epoch: SEAL_TIME at it', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const seals = sealsOf(es)
    const epochStart = (e: number) => k1.key.start + e * k1.key.interval
    const k = seals.findIndex((s, i) => i > 0 && sealOf(s).epoch === sealOf(seals[i - 1]!).epoch && sealOf(seals[i - 1]!).time - 1 >= epochStart(sealOf(s).epoch))
    expect(k).toBeGreaterThan(0)
    const victim = sealOf(seals[k]!)
    const back = sealOf(seals[k - 1]!).time - 1
    const sealer = sealerFrom(root, k1.kept)
    regenerate(dirOf(base), es, { resign: (old, at) => (old.count >= victim.count ? resignWith(sealer, old, at, old.count === victim.count ? back : old.time) : undefined) })
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: seals[k]!.file, line: seals[k]!.line, reason: 'SEAL_TIME', message: `seal time goes backwards: ${iso(back)} (epoch ${victim.epoch}) after ${iso(back + 1)} (epoch ${victim.epoch})` })])
  })
})

describe('a seal replayed', () => {
  test('from another position of the same chain (the first seal copied in after a later record): SEAL_MISPLACED at the copy', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const first = sealsOf(es)[0]!
    const after = es.filter(isUser)[50]!
    const i = es.indexOf(after)
    regenerate(dirOf(base), [...es.slice(0, i + 1), { file: after.file, line: after.line + 1, stored: first.stored }, ...es.slice(i + 1)])
    expect(readChain(dirOf(base)).find((e) => e.file === after.file && e.line === after.line + 1)!.stored).toBe(first.stored)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: after.file, line: after.line + 1, reason: 'SEAL_MISPLACED', message: `the seal was made at chain position ${sealOf(first).count}, it sits at ${i + 1}: records were added or removed before it, or it was copied here` })])
  })

  test('from another chain sealed with the same key (P2): SEAL_MISPLACED at the replayed seal', async () => {
    expect(writerErrors.p2).toEqual([])
    const other = sealsOf(readChain(dirOf(logs.p2!)))[0]!
    expect((await verifyJson(['--verify-key', k1.verify, logs.p2!])).status).toBe(0)
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const victim = sealsOf(es)[2]!
    regenerate(dirOf(base), es.map((e) => (e === victim ? { ...e, stored: other.stored } : e)))
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: victim.file, line: victim.line, reason: 'SEAL_MISPLACED', message: 'the seal was made for another chain', expected: sealOf(victim).chain, found: sealOf(other).chain })])
  })
})

describe('heartbeat seals that stop long before the last record', () => {
  test('a key that runs out while the writer logs on (E): the writer says so once, and verify-log says SEAL_STALE at the last seal', async () => {
    expect(writerErrors.e).toHaveLength(1)
    expect(writerErrors.e![0]).toMatch(/^SEAL_KEY_EXPIRED: the sealing key [0-9a-f]{16} expired at /)
    const es = readChain(dirOf(logs.e!))
    const last = sealsOf(es).at(-1)!
    const unsealed = es.length - es.indexOf(last) - 1
    expect(unsealed).toBeGreaterThan(20)
    const { status, report } = await verifyJson(['--verify-key', keys.e!, logs.e!])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: last.file, line: last.line, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(sealOf(last).time)}, but records go on to ${iso(timeOf(es.at(-1)!))}; the writer promised a seal every 100 ms` })])
    const text = await cli(VERIFY_LOG, ['--verify-key', keys.e!, logs.e!])
    expect(text.stdout).toMatch(new RegExp(`^BROKEN: the seals stop at ${last.file.replace(/[.]/g, '\\.')}:${last.line}, long before the end of the log \\(SEAL_STALE\\)\n`))
    expect(text.stdout).toContain(`  unsealed   ${unsealed} final records not sealed\n  end        no closing seal: `)
  })
})

describe('forward security: seal.key copied from the host after its epoch moved on', () => {
  const stolenEpoch = () => (JSON.parse(fs.readFileSync(k1.stolen, 'utf8')) as { epoch: number }).epoch

  test('the stolen state holds only a later seed, and the Sealer refuses to sign for an earlier time', () => {
    const kept = JSON.parse(fs.readFileSync(k1.kept, 'utf8')) as { epoch: number; seed: string }
    const stolen = JSON.parse(fs.readFileSync(k1.stolen, 'utf8')) as { epoch: number; seed: string }
    expect(kept.epoch).toBe(0)
    expect(stolen.epoch).toBeGreaterThanOrEqual(3)
    expect(stolen.seed).not.toBe(kept.seed)
    const first = sealOf(sealsOf(readChain(dirOf(logs.p!)))[0]!)
    expect(first.epoch).toBeLessThan(stolen.epoch)
    let err: unknown
    try {
      resignWith(sealerFrom(root, k1.stolen), first, { count: first.count, head: first.head, chain: first.chain })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ChainlogError)
    expect(err).toMatchObject({ code: 'INVALID_OPTION', message: `INVALID_OPTION: the clock went back to epoch ${first.epoch}, but the sealing key has already moved on to epoch ${stolen.epoch}; its earlier keys are erased` })
  })

  /** Rewrites the first record of P and re-signs P's first seal with `sealer`; the seals after it are left (they fail later). */
  async function forgeFirstSeal(sealer: ReturnType<typeof sealerFrom>) {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const target = es.filter(isUser)[0]!
    const first = sealsOf(es)[0]!
    regenerate(dirOf(base), es.map((e) => (e === target ? { ...e, stored: e.stored.replace('"status":200', '"status":404') } : e)), {
      resign: (old, at) => (old.count === sealOf(first).count ? resignWith(sealer, old, at) : undefined),
    })
    return { base, first, forged: sealOf(readChain(dirOf(base)).find((e) => e.file === first.file && e.line === first.line)!) }
  }

  test('the thief lies to the Sealer about the epoch (state says epoch 0, seed of a later one): SEAL_INVALID at the forged seal', async () => {
    const { base, first, forged } = await forgeFirstSeal(sealerFrom(root, k1.stolen, (s) => (s.epoch = 0)))
    expect(forged.epoch).toBe(sealOf(first).epoch)
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: first.file, line: first.line, reason: 'SEAL_INVALID', message: `seal does not verify: the public key is not the key of epoch ${forged.epoch}` })])
  })

  test('the thief lies to the Sealer about the clock (epochs shifted so the early time falls in the stolen epoch): SEAL_TIME at the forged seal', async () => {
    const e = stolenEpoch()
    const firstTime = sealOf(sealsOf(readChain(dirOf(logs.p!)))[0]!).time
    const shift = (e - Math.floor((firstTime - k1.key.start) / k1.key.interval)) * k1.key.interval
    const { base, first, forged } = await forgeFirstSeal(sealerFrom(root, k1.stolen, (s) => (s.start = (s.start as number) - shift)))
    expect(forged).toMatchObject({ epoch: e, time: sealOf(first).time })
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: first.file, line: first.line, reason: 'SEAL_TIME', message: `the seal's time ${iso(forged.time)} is outside its epoch ${e}` })])
  })

  test('what the stolen state can still do: seal records from its own epoch on (the documented limit), which verify', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const close = es.at(-1)!
    const sealer = sealerFrom(root, k1.stolen)
    const now = Date.now()
    // After the real closing seal, as a writer started later would: a start seal, the lines, a closing seal.
    const forgedStart: Entry = { file: close.file, line: close.line + 1, stored: close.stored }
    const forgedLines: Entry[] = [0, 1].map((k) => ({ file: close.file, line: close.line + 2 + k, stored: JSON.stringify({ level: 30, time: now, pid: 4242, hostname: 'web-1', msg: 'forged after the theft' }) }))
    const forgedClose: Entry = { file: close.file, line: close.line + 4, stored: close.stored }
    regenerate(dirOf(base), [...es, forgedStart, ...forgedLines, forgedClose], {
      resign: (old, at) => (at.count === es.length ? resignWith(sealer, { ...old, kind: 'start' }, at, now) : at.count === es.length + 3 ? resignWith(sealer, old, at, now) : undefined),
    })
    const { status, report } = await verifyJson(['--verify-key', k1.verify, base])
    expect(report.breaks).toEqual([])
    expect(status).toBe(0)
    expect(report.seals).toMatchObject({ closed: true, lastSealTime: now })
  })
})

describe('a crashed writer (SIGKILL)', () => {
  test('not tampering: VALID, but it ends without a closing seal, and the records after its last seal are reported unsealed', async () => {
    expect(crash.signal).toBe('SIGKILL')
    const es = readChain(dirOf(logs.c!))
    // The writer's start seal (line 2, over the header), then the one seal of its 20 lines.
    const [start, ...seals] = sealsOf(es)
    expect(sealOf(start!)).toMatchObject({ kind: 'start', count: 1 })
    expect(seals).toHaveLength(1)
    // Where the seal lands depends on how the lines were batched (sealEvery counts at batch ends);
    // what must hold is that it covers everything before it and nothing after it is a seal.
    const at = es.indexOf(seals[0]!)
    expect(at).toBeGreaterThanOrEqual(21)
    expect(es.slice(at + 1).every(isUser)).toBe(true)
    const unsealed = es.length - at - 1
    expect(unsealed).toBeGreaterThan(0)
    const id = loadVerifyKey(keys.c!).id
    const text = await cli(VERIFY_LOG, ['--verify-key', keys.c!, logs.c!])
    expect(text.stderr).toBe('')
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(text.stdout).toContain(
      `  seals      2 valid seals (key ${id}): sealed through record ${at + 1} of the chain\n` +
        `  last seal  ${iso(sealOf(seals[0]!).time)} (interval)\n` +
        `  unsealed   ${unsealed} final records not sealed\n` +
        '  end        no closing seal: the writer is still running, crashed or was killed, or the end of the log was cut off\n',
    )
    expect((await verifyJson(['--verify-key', keys.c!, logs.c!])).report).toMatchObject({ ok: true, breaks: [], seals: { valid: 2, sealedThrough: at + 1, unsealed, closed: false, lastKind: 'interval' } })
  })
})

describe('--verify-key with the other keys', () => {
  test('with --key on an hmac-sha256 sealed chain: valid; a holder of the hmac key who rewrites a record passes --key alone, not the seals', async () => {
    expect(writerErrors.h).toEqual([])
    expect((await verifyJson(['--verify-key', keys.h!, logs.h!])).status).toBe(2)
    const ok = await verifyJson(['--key', hmacKeyFile, '--verify-key', keys.h!, logs.h!])
    expect(ok.status).toBe(0)
    expect(ok.report.seals).toMatchObject({ closed: true, unsealed: 0 })
    const base = fresh('h')
    const es = readChain(dirOf(base))
    const target = es.filter(isUser)[5]!
    regenerate(dirOf(base), es.map((e) => (e === target ? { ...e, stored: e.stored.replace('request served', 'nothing happened') } : e)), { hash: createHashFn('hmac-sha256', { key: loadKey(hmacKeyFile) }) })
    expect((await verifyJson(['--key', hmacKeyFile, base])).status).toBe(0)
    const next = es.slice(es.indexOf(target)).find(isSeal)!
    const { status, report } = await verifyJson(['--key', hmacKeyFile, '--verify-key', keys.h!, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: next.file, line: next.line, reason: 'SEAL_MISPLACED' })])
  })

  test('with --checkpoint: both hold on the intact log; on a cut copy the checkpoint says TRUNCATED and the seals (with --as-of) SEAL_STALE', async () => {
    const head = await cli(CHAINLOG, ['head', '--key', hmacKeyFile, logs.h!])
    expect(head.status).toBe(0)
    const checkpoint = path.join(root, 'h-head.json')
    fs.writeFileSync(checkpoint, head.stdout)
    const both = await verifyJson(['--key', hmacKeyFile, '--verify-key', keys.h!, '--checkpoint', checkpoint, logs.h!])
    expect(both.status).toBe(0)
    expect(both.report).toMatchObject({ status: 'VALID', checkpoint: { reached: true }, seals: { closed: true } })
    const base = fresh('h')
    const es = readChain(dirOf(base))
    const last = sealsOf(es).filter((s) => es.indexOf(s) < es.length - 3).at(-1)!
    const keepTo = es.indexOf(last) + 1
    regenerate(dirOf(base), es.slice(0, keepTo), { hash: createHashFn('hmac-sha256', { key: loadKey(hmacKeyFile) }) })
    const cut = await verifyJson(['--key', hmacKeyFile, '--verify-key', keys.h!, '--checkpoint', checkpoint, base])
    expect(cut.status).toBe(1)
    expect(cut.report).toMatchObject({ status: 'TRUNCATED', breaks: [], checkpoint: { reached: false }, seals: { closed: false, sealedThrough: keepTo } })
    const closeTime = sealOf(es.at(-1)!).time
    const stale = await verifyJson(['--key', hmacKeyFile, '--verify-key', keys.h!, '--checkpoint', checkpoint, '--as-of', iso(closeTime + 60_000), base])
    expect(stale.status).toBe(1)
    expect(stale.report).toMatchObject({ status: 'BROKEN', checkpoint: { reached: false } })
    expect(stale.report.breaks).toEqual([expect.objectContaining({ file: last.file, line: last.line, reason: 'SEAL_STALE' })])
  })
})
