// What a sealing writer promises, enforced all along the chain (#12 A2,
// docs/FORMAT.md §13.4): every record is sealed within heartbeat + slack of
// its own time, seals of a running writer follow each other within
// heartbeat + slack, and the heartbeat comes from the verification key, never
// from a seal. The logs are written by the real pino (worker thread, child
// process killed with SIGKILL) and winston transports; the intruder holds a
// copy of seal.key taken once the writers were done (a later epoch), and the
// verdict is the built verify-log's: exit status, reason, exact file:line.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateSealKeys, loadVerifyKey, SEAL_SLACK_MS, writeSealKeys } from '@chainlog/core'
import { chainFiles, tempDir } from './helpers/chain'
import { copyLog, isSeal, isUser, readChain, regenerate, resignWith, sealerFrom, sealOf, timeOf, type Entry } from './helpers/seal-forge'
import { CHAINLOG, cli, crashedPino, pinoSealed, VERIFY_LOG, verifyJson, winstonSealed } from './helpers/seal-writers'

const HEARTBEAT = 200
let root: string
const logs: { [name: string]: string } = {}
const verify: { [name: string]: string } = {}
const stolen: { [name: string]: string } = {}
const errors: { [name: string]: string[] } = {}
const dirOf = (base: string) => path.dirname(base)
const iso = (ms: number) => new Date(ms).toISOString()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const sealsOf = (es: Entry[]) => es.filter(isSeal)

function fresh(name: string): string {
  return path.join(copyLog(dirOf(logs[name]!), path.join(root, `${name}-${Math.random().toString(16).slice(2, 10)}`)), 'app.log')
}

beforeAll(async () => {
  root = tempDir('chainlog-seal-promise-')
  const dir = (name: string) => path.join(root, name)
  // P: keys from the built CLI, the heartbeat fixed at 200 ms.
  const kg = await cli(CHAINLOG, ['keygen', '--out', dir('k-p'), '--interval', '2s', '--epochs', '1000', '--heartbeat', `${HEARTBEAT}ms`])
  expect(kg.status, kg.stderr).toBe(0)
  verify.p = path.join(dir('k-p'), 'verify.key')
  expect(loadVerifyKey(verify.p)).toMatchObject({ v: 2, heartbeat: HEARTBEAT })
  verify.w = writeSealKeys(dir('k-w'), generateSealKeys({ interval: 2000, epochs: 1000, heartbeat: HEARTBEAT })).verifyKey
  // R (crash, restarts): the writers' sealInterval is left out, so they take the key's 60 s heartbeat.
  verify.r = writeSealKeys(dir('k-r'), generateSealKeys({ interval: 2000, epochs: 1000, heartbeat: 60_000 })).verifyKey
  for (const name of ['p', 'w', 'r']) logs[name] = path.join(dir(`log-${name}`), 'app.log')
  const sealKey = (name: string) => path.join(dir(`k-${name}`), 'seal.key')
  const [p, w, r] = await Promise.all([
    // P: a burst, idle, a line every 100 ms for 8 s across epochs, rotating at 20 kB, and the close.
    pinoSealed(logs.p!, { sealKey: sealKey('p'), sealEvery: 20, size: '20k' }, [{ lines: 30 }, { idle: 500 }, { lines: 80, every: 100 }]),
    // W: 25 lines, 6.5 s idle (heartbeat seals only), 5 lines, the close.
    winstonSealed(logs.w!, { sealKey: sealKey('w'), sealEvery: 10, sealInterval: HEARTBEAT }, [{ lines: 25 }, { idle: 6500 }, { lines: 5 }]),
    (async () => {
      // R: a pino child killed with SIGKILL after 20 sealed lines and 7 unsealed ones; pino restarts
      // on the log at once (rotating at 4 kB), then winston (a clean restart after pino's close).
      const crash = await crashedPino(logs.r!, { sealKey: sealKey('r'), sealEvery: 20 }, 20, 7, 100)
      expect(crash.signal).toBe('SIGKILL')
      const again = await pinoSealed(logs.r!, { sealKey: sealKey('r'), sealEvery: 10, size: '4k' }, [{ lines: 40, every: 5 }, { idle: 300 }])
      return [...again, ...(await winstonSealed(logs.r!, { sealKey: sealKey('r'), sealEvery: 10 }, [{ lines: 10 }]))]
    })(),
  ])
  Object.assign(errors, { p, w, r })
  // What the intruder copies from the host now: seal.key as the writers left it (the latest epoch).
  for (const name of ['p', 'w']) {
    stolen[name] = dir(`stolen-${name}.key`)
    fs.copyFileSync(sealKey(name), stolen[name]!)
  }
  // The forgeries below re-seal with the stolen key at its own time; the oldest record must be older than the slack by then.
  const first = readChain(dirOf(logs.p!)).find(isUser)!
  const wait = timeOf(first) + HEARTBEAT + SEAL_SLACK_MS + 1000 - Date.now()
  if (wait > 0) await sleep(wait)
}, 60_000)

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('untampered sealed logs verify VALID', () => {
  test('pino with a burst, idle time, epochs and rotations; winston with 6.5 s of heartbeats only; each begins with a start seal and ends with its close', async () => {
    for (const name of ['p', 'w']) {
      expect(errors[name]).toEqual([])
      const es = readChain(dirOf(logs[name]!))
      expect(sealOf(es[1]!)).toMatchObject({ kind: 'start', count: 1 })
      expect(sealOf(es.at(-1)!).kind).toBe('close')
      // `every` is the writer's sealInterval: the key's heartbeat when none is given.
      expect(new Set(sealsOf(es).map((s) => sealOf(s).every))).toEqual(new Set([HEARTBEAT]))
      const { status, report } = await verifyJson(['--verify-key', verify[name]!, logs[name]!])
      expect(report.breaks).toEqual([])
      expect(status).toBe(0)
      expect(report.seals).toMatchObject({ closed: true, unsealed: 0, heartbeat: HEARTBEAT, notices: [] })
    }
    expect(chainFiles(dirOf(logs.p!)).length).toBeGreaterThanOrEqual(2)
    const idle = sealsOf(readChain(dirOf(logs.w!))).filter((s) => sealOf(s).kind === 'heartbeat')
    expect(idle.length).toBeGreaterThanOrEqual(20)
  })

  test('a writer killed with SIGKILL, pino restarted at once on the log, rotating, then winston after its close: VALID, the records the dead writer left sealed by the start seal of the next', async () => {
    expect(errors.r).toEqual([])
    const es = readChain(dirOf(logs.r!))
    const seals = sealsOf(es).map(sealOf)
    // Each writer begins with a start seal: the one killed, pino after the kill, winston after pino's close.
    expect(seals.map((s) => s.kind).filter((k) => k === 'start')).toHaveLength(3)
    // The dead writer's last seal is not a close: the next seal is the restarted writer's start seal, and user lines lie between.
    const startAfterCrash = sealsOf(es).filter((s) => sealOf(s).kind === 'start')[1]!
    const before = sealsOf(es)[sealsOf(es).indexOf(startAfterCrash) - 1]!
    expect(sealOf(before).kind).toBe('interval')
    expect(es.slice(es.indexOf(before) + 1, es.indexOf(startAfterCrash)).filter(isUser)).toHaveLength(7)
    expect(chainFiles(dirOf(logs.r!)).length).toBeGreaterThanOrEqual(3)
    const { status, report } = await verifyJson(['--verify-key', verify.r!, logs.r!])
    expect(report.breaks).toEqual([])
    expect(status).toBe(0)
    expect(report.seals).toMatchObject({ closed: true, unsealed: 0, heartbeat: 60_000, valid: seals.length })
  })
})

describe('seals re-made later with a stolen key (CVE-2023-31439 in another form)', () => {
  /** Re-signs, with the stolen state, every seal of the stolen epoch or later at its own place and time; earlier seals after `from` are dropped. */
  function reseal(name: string, es: Entry[], from: number): { entries: Entry[]; resign: Parameters<typeof regenerate>[2] } {
    const sealer = sealerFrom(root, stolen[name]!)
    const epoch = (JSON.parse(fs.readFileSync(stolen[name]!, 'utf8')) as { epoch: number }).epoch
    const entries = es.filter((e, i) => i <= from || !isSeal(e) || sealOf(e).epoch >= epoch)
    return { entries, resign: { resign: (old, at) => (at.count > from ? resignWith(sealer, old, at) : undefined) } }
  }

  test('pino: a record of the first epoch edited, the chain recomputed, the seals of the epochs before the theft dropped and the later ones re-signed: SEAL_LATE at the edited record', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    // The first line after the first seal (which stays valid: nothing before it changed).
    const firstSeal = es.findIndex(isSeal)
    const target = es.slice(firstSeal).find(isUser)!
    const at = es.indexOf(target)
    const edited = es.map((e) => (e === target ? { ...e, stored: e.stored.replace('"status":200', '"status":500') } : e))
    const { entries, resign } = reseal('p', edited, at - 1)
    expect(entries.filter(isSeal).length).toBeLessThan(sealsOf(es).length)
    // The first seal left after the edited record is of the stolen epoch, later than the heartbeat and the slack allow.
    const firstKept = entries.slice(at).find(isSeal)!
    expect(sealOf(firstKept).time - timeOf(target)).toBeGreaterThan(HEARTBEAT + SEAL_SLACK_MS)
    regenerate(dirOf(base), entries, resign)
    const { status, report } = await verifyJson(['--verify-key', verify.p!, base])
    expect(status).toBe(1)
    expect(report.breaks).toHaveLength(1)
    expect(report.breaks[0]).toMatchObject({ file: target.file, line: target.line, reason: 'SEAL_LATE' })
    expect(report.breaks[0]!.message).toMatch(new RegExp(`^this record is not sealed in its time: it is dated ${iso(timeOf(target)).replace(/[.]/g, '\\.')}, and the first seal after it was made at `))
    const text = await cli(VERIFY_LOG, ['--verify-key', verify.p!, base])
    expect(text.status).toBe(1)
    expect(text.stdout).toMatch(new RegExp(`^BROKEN: the record at ${target.file.replace(/[.]/g, '\\.')}:${target.line} is not sealed in its time \\(SEAL_LATE\\)\n`))
  })

  test('pino: every seal dropped but one closing seal re-signed with the stolen key: SEAL_LATE at line 1 of the first file (its header is dated)', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const close = es.at(-1)!
    const sealer = sealerFrom(root, stolen.p!)
    const entries = es.filter((e) => !isSeal(e) || e === close)
    regenerate(dirOf(base), entries, { resign: (old, at) => resignWith(sealer, old, at) })
    const { status, report } = await verifyJson(['--verify-key', verify.p!, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: es[0]!.file, line: 1, reason: 'SEAL_LATE' })])
    expect(report.seals).toMatchObject({ valid: 1, closed: true })
  })

  test("winston: the heartbeat seals of the idle time dropped, the closing seal re-signed, even claiming every: 1e12: SEAL_GAP at it (the heartbeat is the key's)", async () => {
    const base = fresh('w')
    const es = readChain(dirOf(base))
    const lastBefore = es.filter(isUser)[24]!
    const covering = es.slice(es.indexOf(lastBefore)).find(isSeal)!
    const close = es.at(-1)!
    const sealer = sealerFrom(root, stolen.w!)
    const entries = es.filter((e, i) => i <= es.indexOf(covering) || !isSeal(e) || e === close)
    regenerate(dirOf(base), entries, { resign: (old, at) => (old.kind === 'close' ? resignWith(sealer, { ...old, every: 1e12 }, at) : undefined) })
    const forged = readChain(dirOf(base))
    const forgedClose = forged.at(-1)!
    expect(sealOf(forgedClose)).toMatchObject({ kind: 'close', every: 1e12 })
    expect(sealOf(forgedClose).time - sealOf(covering).time).toBeGreaterThan(HEARTBEAT + SEAL_SLACK_MS)
    const { status, report } = await verifyJson(['--verify-key', verify.w!, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: forgedClose.file, line: forgedClose.line, reason: 'SEAL_GAP', expected: `a seal by ${iso(sealOf(covering).time + HEARTBEAT + SEAL_SLACK_MS)}` })])
    const text = await cli(VERIFY_LOG, ['--verify-key', verify.w!, base])
    expect(text.stdout).toMatch(new RegExp(`^BROKEN: seals are missing before the seal at ${forgedClose.file.replace(/[.]/g, '\\.')}:${forgedClose.line} \\(SEAL_GAP\\)\n`))
  })

  test('pino: after the closing seal, a start seal claiming every: 1e12 and lines dated 30 s later, unsealed: SEAL_STALE at that seal (every does not stretch the heartbeat)', async () => {
    const base = fresh('p')
    const es = readChain(dirOf(base))
    const close = es.at(-1)!
    const sealer = sealerFrom(root, stolen.p!)
    const now = Date.now()
    const start: Entry = { file: close.file, line: close.line + 1, stored: close.stored }
    const lines: Entry[] = [0, 1, 2].map((k) => ({ file: close.file, line: close.line + 2 + k, stored: JSON.stringify({ level: 30, time: now + 30_000 + k, pid: 4242, hostname: 'web-1', msg: 'after the forged seal' }) }))
    regenerate(dirOf(base), [...es, start, ...lines], { resign: (old, at) => (at.count === es.length ? resignWith(sealer, { ...old, kind: 'start', every: 1e12 }, at, now) : undefined) })
    const { status, report } = await verifyJson(['--verify-key', verify.p!, base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file: start.file, line: start.line, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(now)}, but records go on to ${iso(now + 30_002)}; the writer promised a seal every ${HEARTBEAT} ms` })])
  })
})

describe('the heartbeat comes from the verification key', () => {
  test('a version 1 key (no heartbeat) is refused unless the reviewer gives --heartbeat; a version 2 key refuses another heartbeat; exit 2, no stack trace', async () => {
    const v1 = path.join(root, 'v1.key')
    const { heartbeat: _h, ...rest } = loadVerifyKey(verify.p!)
    fs.writeFileSync(v1, JSON.stringify({ ...rest, v: 1 }))
    const refused = await cli(VERIFY_LOG, ['--verify-key', v1, logs.p!])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/^verify-log: the verification key [0-9a-f]{16} is a version 1 key, which does not fix the heartbeat, .*give the heartbeat the writers were set to \(verify-log --heartbeat <time>/)
    expect(refused.stderr).not.toMatch(/\n\s+at /)
    const given = await verifyJson(['--verify-key', v1, '--heartbeat', '200ms', logs.p!])
    expect(given.status).toBe(0)
    expect(given.report.seals).toMatchObject({ heartbeat: 200 })
    const other = await cli(VERIFY_LOG, ['--verify-key', verify.p!, '--heartbeat', '1h', logs.p!])
    expect(other.status).toBe(2)
    expect(other.stderr).toContain(`fixes the heartbeat at ${HEARTBEAT} ms; a heartbeat of 3600000 ms cannot be given with it`)
  })

  test('a writer whose sealInterval is longer than the key\'s heartbeat does not start: INVALID_OPTION', async () => {
    const errs = await pinoSealed(path.join(root, 'log-long', 'app.log'), { sealKey: path.join(root, 'k-w', 'seal.key'), sealInterval: 1000 }, [{ lines: 1 }]).catch((err: Error) => [err.message])
    expect(errs.join('\n')).toMatch(/INVALID_OPTION: sealInterval 1000 ms is longer than the heartbeat of 200 ms fixed in the sealing key [0-9a-f]{16} at keygen/)
  })
})
