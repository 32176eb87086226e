/**
 * `verify-log --shipped` on what a real shipping engine delivers (#15 part 3):
 * real pino with rotation writes the log, one rsyslogd tails its files with
 * imfile and forwards them over TCP to a second rsyslogd, which writes a
 * central file. Then the faults the engine itself makes: a receiver killed
 * and restarted mid-stream, a maxMessageSize smaller than some records, and
 * an edited line in the central file.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import type { ShippedProblem, ShippedReport } from '@chainlog/core'
import { json, run, CHAINLOG, VERIFY_LOG } from '../packages/cli/test/helpers'
import { chainFiles, records, runChild, testDir } from './helpers/chain'
import { freePort, lineCount, receiverConf, Rsyslogd, senderConf, settled, until } from './helpers/rsyslog'

interface Shipped {
  ok: boolean
  status: ShippedReport['verdict']
  duplicates: number
  skipped: number
  envelopes: ShippedReport['envelopes']
  chains: Array<{ chain: string | null; status: string; records: number; duplicates: number; head: { hash: string; count: number | null } | null; problems: ShippedProblem[]; problemCount: number }>
}

async function pair(maxMessageSize?: string) {
  const dir = testDir('chainlog-rsyslog-')
  const logs = path.join(dir, 'logs')
  const central = path.join(dir, 'central.log')
  const port = await freePort()
  const rx = new Rsyslogd('rx', dir, receiverConf(dir, port, central))
  const tx = new Rsyslogd('tx', dir, senderConf(dir, port, logs, maxMessageSize))
  await rx.start()
  await tx.start()
  return { dir, logs, central, rx, tx }
}

/** Real pino through @chainlog/pino in a child process, rotating every ~16 KiB. */
async function log(logs: string, count: number, pad?: (i: number) => number) {
  const lines = pad ? Array.from({ length: count }, (_, i) => JSON.stringify({ level: 30, time: Date.now(), i, pad: 'x'.repeat(pad(i)), msg: `line ${i}` })) : undefined
  const r = await runChild('pino-child.cjs', { file: path.join(logs, 'app.log'), options: { size: '16k' }, scenario: 'normal', ...(lines ? { lines } : { count, pad: 40 }) })
  expect(r.code, r.stderr).toBe(0)
}

const shipped = async (...args: string[]) => {
  const r = await run(VERIFY_LOG, ['--shipped', '--json', ...args])
  return { status: r.status, report: json<Shipped>(r) }
}

describe('rsyslog imfile → TCP → central file', () => {
  test('a log written by pino with rotation verifies VALID from the central file, to the same head', async () => {
    const { logs, central } = await pair()
    await log(logs, 600)
    const truth = records(chainFiles(logs))
    expect(chainFiles(logs).length).toBeGreaterThanOrEqual(4)
    await until(() => lineCount(central) >= truth.length, 20_000, () => `central file has ${lineCount(central)} of ${truth.length} lines`)
    const { status, report } = await shipped(central)
    expect(status).toBe(0)
    expect(report.status).toBe('VALID')
    expect(report.envelopes).toEqual({ syslog: truth.length })
    expect(report.chains).toHaveLength(1)
    const head = JSON.parse((await run(CHAINLOG, ['head', path.join(logs, 'app.log')])).stdout) as { hash: string; count: number }
    expect(report.chains[0]!.head).toEqual({ hash: head.hash, count: head.count })
    expect(report.chains[0]!.records).toBe(truth.length)
    const text = await run(VERIFY_LOG, ['--shipped', central])
    expect(text.stdout.split('\n')[0]).toBe('VALID: every chain is complete from its first header to its last record')
  })

  test('the receiver killed and restarted mid-stream: whatever it lost is a GAP at the right place, whatever came twice a duplicate', async () => {
    const { logs, central, rx } = await pair()
    await log(logs, 300)
    await until(() => lineCount(central) > 100, 20_000, () => 'nothing reached the central file')
    await rx.stop('SIGKILL')
    await log(logs, 300)
    await rx.start()
    const truth = records(chainFiles(logs))
    await settled(central)
    const got = fs.readFileSync(central, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.slice(-64))
    const present = new Set(got)
    // The truth: which records never arrived, as runs in chain order.
    const lost: Array<{ from: number; to: number }> = []
    truth.forEach((r, i) => {
      if (present.has(r.hash)) return
      const last = lost.at(-1)
      if (last && last.to === i - 1) last.to = i
      else lost.push({ from: i, to: i })
    })
    const { status, report } = await shipped(central)
    const c = report.chains[0]!
    expect(report.chains).toHaveLength(1)
    expect(report.duplicates).toBe(got.length - present.size)
    expect(c.problems.map((p) => p.reason)).toEqual(lost.map(() => 'GAP'))
    lost.forEach((gap, k) => {
      const p = c.problems[k]!
      expect(p.after?.hash).toBe(truth[gap.from - 1]!.hash)
      expect(p.before?.hash).toBe(truth[gap.to + 1]!.hash)
      if (p.missing !== null) expect(p.missing).toBe(gap.to - gap.from + 1)
    })
    expect(status).toBe(lost.length ? 1 : 0)
    expect(report.status).toBe(lost.length ? 'INCOMPLETE' : 'VALID')
  })

  test('a maxMessageSize smaller than some records: each is CUT, at its line in the central file, not tampering', async () => {
    const { logs, central } = await pair('1k')
    const long = (i: number) => (i % 50 === 25 ? 1500 : 40)
    await log(logs, 200, long)
    const truth = records(chainFiles(logs))
    await until(() => lineCount(central) >= truth.length, 20_000, () => `central file has ${lineCount(central)} of ${truth.length} lines`)
    await settled(central, 500)
    const lines = fs.readFileSync(central, 'utf8').split('\n')
    const cutLines = lines.flatMap((l, n) => {
      const m = /"i":(\d+),/.exec(l)
      return m && long(Number(m[1])) === 1500 ? [n + 1] : []
    })
    expect(cutLines).toHaveLength(4)
    const { status, report } = await shipped(central)
    expect(status).toBe(1)
    expect(report.status).toBe('INCOMPLETE')
    const c = report.chains[0]!
    expect(c.problems.map((p) => `${p.reason} ${p.line}`).sort()).toEqual(cutLines.map((n) => `CUT ${n}`).sort())
    expect(c.problems.every((p) => p.message.startsWith('a record was cut by a shipper') || p.message.startsWith("the chain's last record was cut"))).toBe(true)
  })

  test('an edited line in the central file is HASH_MISMATCH at that line', async () => {
    const { logs, central } = await pair()
    await log(logs, 120)
    const truth = records(chainFiles(logs))
    await until(() => lineCount(central) >= truth.length, 20_000, () => `central file has ${lineCount(central)} of ${truth.length} lines`)
    const lines = fs.readFileSync(central, 'utf8').split('\n')
    const n = lines.findIndex((l) => l.includes('"msg":"line 77"'))
    lines[n] = lines[n]!.replace('"msg":"line 77"', '"msg":"line 78"')
    fs.writeFileSync(central, lines.join('\n'))
    const { status, report } = await shipped(central)
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line}`)).toEqual([`HASH_MISMATCH ${central}:${n + 1}`])
  })
})
