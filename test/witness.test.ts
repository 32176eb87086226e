/**
 * `chainlog witness` against a real C2SP tlog-witness (#16): test/go/witness,
 * built on Go's note and tlog, verifies the consistency proof against the
 * size it last cosigned, refuses rollbacks and answers 409 with its size. On
 * logs written by the real transports, rotated and gzipped: pino's signed by
 * `chainlog checkpoint --write`, winston's by its own writer (checkpointKey).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest'
import { parseCheckpoint, parseNote } from '@chainlog/core/format'
import { chainlog, oneLineError, verifyLog, type Result } from '../packages/cli/test/helpers'
import { runChild, tempDir } from './helpers/chain'
import { buildGo } from './helpers/go'
import { rechain, sha256 } from './helpers/rechain'

const ok = (r: Result) => {
  expect(r.status, r.stderr).toBe(0)
  return r.stdout
}

let exe: string
const running: ChildProcess[] = []

/** Starts a witness that knows the logs of `vkeys`; resolves with its URL and its cosignature key file. */
async function startWitness(dir: string, name: string, vkeys: string[]): Promise<{ url: string; wkey: string }> {
  const wkey = path.join(dir, `${name.replace(/\W/g, '_')}.wkey`)
  const child = spawn(exe, ['-name', name, '-listen', '127.0.0.1:0', '-vkey-out', wkey, ...vkeys.flatMap((k) => ['-log', k])], { stdio: ['ignore', 'pipe', 'inherit'] })
  running.push(child)
  const addr = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /listening (\S+)\n/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (code) => reject(new Error(`the witness exited ${code}`)))
  })
  return { url: `http://${addr}`, wkey }
}

/** A log, its checkpoint keys, and how its transport writes and signs it. */
interface Log {
  transport: Transport
  dir: string
  base: string
  keys: string
}

interface Transport {
  script: string
  /** How the child ends: winston's writer closes, and signs its last checkpoint, on logger.end(). */
  scenario: 'normal' | 'flush'
  options(keys: string): object
  /** The log's latest signed checkpoint, in <base>.checkpoint. */
  sign(log: Log): Promise<string>
}

const TRANSPORTS: Record<'pino' | 'winston', Transport> = {
  pino: {
    script: 'pino-child.cjs',
    scenario: 'normal',
    options: () => ({ size: '5000b', compress: true }),
    sign: async (log) => ok(await chainlog(['checkpoint', log.base, '--key', path.join(log.keys, 'checkpoint.key'), '--write'])),
  },
  winston: {
    script: 'winston-child.cjs',
    scenario: 'flush',
    options: (keys) => ({ maxSize: 5000, zippedArchive: true, checkpointKey: path.join(keys, 'checkpoint.key') }),
    sign: async (log) => fs.readFileSync(`${log.base}.checkpoint`, 'utf8'),
  },
}

async function write(log: Log, count: number, file = log.base): Promise<void> {
  const r = await runChild(log.transport.script, { file, count, scenario: log.transport.scenario, options: log.transport.options(log.keys) })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).not.toContain('transport-error')
}

/** A log of 120 lines by `transport`, with its checkpoint keys made first (winston's writer signs with them). */
async function newLog(transport: keyof typeof TRANSPORTS): Promise<Log> {
  const dir = tempDir()
  const log = { transport: TRANSPORTS[transport], dir, base: path.join(dir, 'app.log'), keys: path.join(dir, 'keys') }
  ok(await chainlog(['keygen', '--checkpoint', '--origin', `example.com/witnessed/${transport}`, '--out', log.keys]))
  await write(log, 120)
  return log
}

const logs: Partial<Record<keyof typeof TRANSPORTS, Log>> = {}
/** What the witness w1 cosigned of pino's log, for the refusals below. */
let w1: { url: string; wkey: string }
let cosigned1: string

beforeAll(() => {
  exe = buildGo('witness')
})

afterAll(() => {
  for (const c of running) c.kill()
  for (const log of Object.values(logs)) fs.rmSync(log.dir, { recursive: true, force: true })
})

const sizeOf = (note: string) => parseCheckpoint(parseNote(note).text).size

describe.each(Object.keys(TRANSPORTS) as (keyof typeof TRANSPORTS)[])('chainlog witness on a log written by %s', (transport) => {
  test('cosigned, then again after the log grew; verify-log requires the cosignature; a lost <base>.cosigned is retried from the size the witness answers (409)', async () => {
    const log = (logs[transport] = await newLog(transport))
    const { base, dir } = log
    const origin = `example.com/witnessed/${transport}`
    const w = await startWitness(dir, 'witness.example/w1', [path.join(log.keys, 'checkpoint.vkey')])
    const vkey = path.join(log.keys, 'checkpoint.vkey')
    const cp1 = await log.transport.sign(log)
    const first = ok(await chainlog(['witness', base, '--url', w.url, '--witness-key', w.wkey]))
    expect(first.startsWith(cp1.slice(0, cp1.indexOf('\n\n') + 2))).toBe(true)
    expect(parseNote(first).signatures.map((s) => s.name)).toEqual([origin, 'witness.example/w1'])
    expect(fs.readFileSync(`${base}.cosigned`, 'utf8')).toBe(first)
    const old = path.join(dir, 'cosigned-1.txt')
    fs.copyFileSync(`${base}.cosigned`, old)

    // verify-log with the witness's key: the cosignature is there and valid.
    const v = await verifyLog([base, '--checkpoint', `${base}.cosigned`, '--checkpoint-key', vkey, '--witness-key', w.wkey])
    expect(v.status, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toMatch(/cosigned +by witness\.example\/w1 at \d{4}-\d\d-\d\dT/)

    // The log grows: the next submission carries the proof from the size the witness cosigned.
    await write(log, 120)
    const cp2 = await log.transport.sign(log)
    const second = ok(await chainlog(['witness', base, '--url', w.url, '--witness-key', w.wkey]))
    expect(sizeOf(second)).toBe(sizeOf(cp2))
    expect(sizeOf(cp2)).toBeGreaterThan(sizeOf(cp1))

    // A client that lost <base>.cosigned sends old 0: the witness answers 409 with its size, and the client retries from it.
    fs.rmSync(`${base}.cosigned`)
    await write(log, 10)
    await log.transport.sign(log)
    const retried = await chainlog(['witness', base, '--url', w.url, '--witness-key', w.wkey])
    expect(retried.status, retried.stderr).toBe(0)
    expect(retried.stderr).toBe(`chainlog witness: the witness last cosigned ${sizeOf(cp2)} records (not 0); retrying from there\n`)
    const v2 = await verifyLog([base, '--checkpoint', `${base}.cosigned`, '--checkpoint-key', vkey, '--witness-key', w.wkey])
    expect(v2.status, v2.stdout + v2.stderr).toBe(0)
    if (transport === 'pino') {
      w1 = w
      cosigned1 = old
    }
  })
})

describe("chainlog witness: what the witness refuses (on pino's log, cosigned by w1 above)", () => {
  test('rollbacks and forks are refused', async () => {
    const log = logs.pino!
    const { base, dir } = log
    const w = w1
    const old = cosigned1
    // Rollback: the log cut back to the first checkpoint's size and signed again (the attacker holds checkpoint.key).
    const copy = path.join(tempDir(), 'copy')
    onTestFinished(() => fs.rmSync(path.dirname(copy), { recursive: true, force: true }))
    fs.cpSync(dir, copy, { recursive: true })
    const cb = path.join(copy, 'app.log')
    const files = fs.readdirSync(copy).filter((n) => /^app\.\d+\.log(\.gz)?$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    const last = path.join(copy, files.at(-1)!)
    const lines = fs.readFileSync(last, 'utf8').split('\n').slice(0, -1)
    fs.writeFileSync(last, lines.slice(0, -5).map((l) => l + '\n').join(''))
    ok(await chainlog(['checkpoint', cb, '--key', path.join(copy, 'keys/checkpoint.key'), '--write']))
    const rollback = await chainlog(['witness', cb, '--url', w.url, '--witness-key', w.wkey])
    expect(rollback.status).toBe(1)
    expect(oneLineError(rollback)).toMatch(/^chainlog witness: the witness has cosigned \d+ records of example\.com\/witnessed\/pino, more than the \d+ of this checkpoint: the log was cut or rolled back, or the witness saw another history$/)
    // Cut above the first cosigned size, the log still extends that checkpoint: only the witness knew of the later records.
    expect((await verifyLog([cb, '--checkpoint', old, '--checkpoint-key', path.join(copy, 'keys/checkpoint.vkey'), '--witness-key', w.wkey])).status).toBe(0)

    // Fork: the past rewritten with every hash recomputed, then grown past the witness's size and signed.
    const all = fs.readdirSync(copy).filter((n) => /^app\.\d+\.log(\.gz)?$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).map((n) => path.join(copy, n))
    fs.cpSync(dir, copy, { recursive: true })
    rechain(all, sha256, (stored, place) => (place.file === 1 && place.line === 3 ? stored.replace('line', 'LINE') : stored))
    await write(log, 20, cb)
    ok(await chainlog(['checkpoint', cb, '--key', path.join(copy, 'keys/checkpoint.key'), '--write']))
    fs.copyFileSync(`${base}.cosigned`, `${cb}.cosigned`)
    const fork = await chainlog(['witness', cb, '--url', w.url, '--witness-key', w.wkey])
    expect(fork.status).toBe(1)
    expect(oneLineError(fork)).toMatch(/^chainlog witness: the witness refuses the consistency proof from \d+ to \d+ records \(422\): the log does not extend what the witness cosigned; it was rewritten/)
  })

  test('an unknown log is 404, another key for the origin 403 (exit 2); a cosignature by an unknown witness does not count (exit 1)', async () => {
    const log = logs.pino!
    const { base, dir, keys } = log
    const sign = () => log.transport.sign(log)
    const other = path.join(dir, 'other-origin')
    ok(await chainlog(['keygen', '--checkpoint', '--origin', 'example.com/other/app', '--out', other]))
    const w = await startWitness(dir, 'witness.example/w2', [path.join(other, 'checkpoint.vkey')])
    await sign()
    const unknown = await chainlog(['witness', base, '--url', w.url, '--witness-key', w.wkey])
    expect(unknown.status).toBe(2)
    expect(oneLineError(unknown)).toBe("chainlog witness: the witness does not know the log example.com/witnessed/pino (404): its operator must add the log's checkpoint.vkey")

    const sameOrigin = path.join(dir, 'same-origin')
    ok(await chainlog(['keygen', '--checkpoint', '--origin', 'example.com/witnessed/pino', '--out', sameOrigin]))
    const w3 = await startWitness(dir, 'witness.example/w3', [path.join(sameOrigin, 'checkpoint.vkey')])
    const forbidden = await chainlog(['witness', base, '--url', w3.url, '--witness-key', w3.wkey])
    expect(forbidden.status).toBe(2)
    expect(oneLineError(forbidden)).toMatch(/^chainlog witness: the witness refuses the checkpoint's signature \(403\): it knows another key for example\.com\/witnessed\/pino/)

    // <base>.cosigned is cosigned by w1 (the first test): a witness whose key is w2's finds no cosignature of its own.
    const r = await verifyLog(['--json', base, '--checkpoint', `${base}.cosigned`, '--checkpoint-key', path.join(keys, 'checkpoint.vkey'), '--witness-key', w.wkey])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout).error).toEqual({ code: 'CHECKPOINT_UNVERIFIED', message: 'the checkpoint has no cosignature by the witness witness.example/w2 (it has signatures by witness.example/w1, whose keys were not given)' })
    // A port nobody listens on any more.
    const srv = net.createServer()
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    const port = (srv.address() as net.AddressInfo).port
    await new Promise((resolve) => srv.close(resolve))
    const down = await chainlog(['witness', base, '--url', `http://127.0.0.1:${port}`, '--witness-key', w.wkey])
    expect(down.status).toBe(2)
    expect(oneLineError(down)).toBe(`chainlog witness: cannot reach the witness at http://127.0.0.1:${port}: ECONNREFUSED`)
  })
})
