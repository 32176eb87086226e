/**
 * Checkpoints as the log is written (#16, FORMAT.md §14.6): the transports'
 * `checkpointKey` keeps `<base>.checkpoint` up to date and records each
 * checkpoint in the chain. On logs written by real pino and winston in child
 * processes, rotated, restarted, killed with SIGKILL and shared by two
 * writers, the file verifies with the built CLI and with Go's note.Open, its
 * root is Go's tlog.TreeHash of the records, and an attacker who rewrites
 * the log (or a recorded root) and recomputes every hash is caught at the
 * exact file:line of the checkpoint record.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { verify } from '@chainlog/core'
import { parseCheckpoint, parseNote } from '@chainlog/core/format'
import { chainlog, json, verifyLog, type Result } from '../packages/cli/test/helpers'
import { chainFiles, runChild, tempDir } from './helpers/chain'
import { buildGo, runGoJson } from './helpers/go'
import { rechain, sha256 } from './helpers/rechain'

const ok = (r: Result) => {
  expect(r.status, r.stderr + r.stdout).toBe(0)
  return r.stdout
}

let checker: string
beforeAll(() => {
  checker = buildGo('tlogcheck')
})

async function keysIn(dir: string, origin: string): Promise<{ key: string; vkey: string }> {
  const keys = path.join(dir, 'keys')
  ok(await chainlog(['keygen', '--checkpoint', '--origin', origin, '--out', keys]))
  return { key: path.join(keys, 'checkpoint.key'), vkey: path.join(keys, 'checkpoint.vkey') }
}

const OPTIONS = {
  pino: (key: string) => ({ size: '5000b', checkpointKey: key }),
  winston: (key: string) => ({ maxSize: 5000, checkpointKey: key }),
} as const

/** Runs a child that logs `count` lines and closes its logger (winston's logger.end(); pino closes its transport as it exits). */
async function run(transport: 'pino' | 'winston', file: string, key: string, count: number, scenario: string = transport === 'winston' ? 'flush' : 'normal', signal?: NodeJS.Signals) {
  const r = await runChild(`${transport}-child.cjs`, { file, count, scenario, options: OPTIONS[transport](key) }, signal ? { signal } : {})
  if (!signal) expect(r.code, r.stderr + r.stdout).toBe(0)
  expect(r.stdout).not.toContain('transport-error')
  return r
}

/** The stored lines of the checkpoint records, with where they are. */
function checkpointRecords(dir: string): { file: string; line: number; meta: { size: number; root: string } }[] {
  const out: { file: string; line: number; meta: { size: number; root: string } }[] = []
  for (const file of chainFiles(dir)) {
    fs.readFileSync(file, 'utf8').split('\n').forEach((physical, i) => {
      const stored = physical.slice(65, -65)
      if (stored.startsWith('\\m{"t":"checkpoint"')) out.push({ file, line: i + 1, meta: JSON.parse(stored.slice(2)) })
    })
  }
  return out
}

/** The log is VALID, `<base>.checkpoint` is the latest checkpoint record's, and both the CLI and Go accept it. */
async function checkAll(base: string, vkey: string, origin: string): Promise<number> {
  const hashes: string[] = []
  const report = await verify(base, { onRecord: (h) => hashes.push(h) })
  expect(report.verdict, JSON.stringify(report.breaks)).toBe('VALID')
  const note = fs.readFileSync(`${base}.checkpoint`, 'utf8')
  const body = parseCheckpoint(parseNote(note).text)
  expect(body.origin).toBe(origin)
  const recorded = checkpointRecords(path.dirname(base))
  const last = recorded.at(-1)!
  expect(last.meta.size).toBe(body.size)
  expect(last.meta.root).toBe(Buffer.from(body.root).toString('base64'))
  // The writer's last checkpoint, at close, covers every record before it: only the checkpoint record itself follows.
  expect(body.size).toBe(hashes.length - 1)
  const out = ok(await verifyLog([base, '--checkpoint', `${base}.checkpoint`, '--checkpoint-key', vkey]))
  expect(out).toContain(`checkpoint extended: ${origin}, ${body.size} records`)
  const go = runGoJson<{ notes: { ok: boolean; error: string }[]; roots: Record<string, string> }>(checker, {
    verifierKeys: [fs.readFileSync(vkey, 'utf8').trim()],
    notes: [note],
    records: hashes,
    sizes: recorded.map((r) => r.meta.size),
    inclusion: [],
    consistency: [],
    prove: [],
    proveTree: [],
  })
  expect(go.notes[0], go.notes[0]?.error).toMatchObject({ ok: true })
  // Every recorded root is Go's tree hash of the records before it.
  for (const r of recorded) expect(go.roots[String(r.meta.size)]).toBe(r.meta.root)
  return body.size
}

describe.each(['pino', 'winston'] as const)('%s with checkpointKey', (transport) => {
  test('rotation and a restart: a checkpoint at open, at each rotation and at close, each recorded and in <base>.checkpoint', async () => {
    const dir = tempDir()
    const base = path.join(dir, 'app.log')
    const origin = `example.com/${transport}/app`
    const { key, vkey } = await keysIn(dir, origin)
    await run(transport, base, key, 200)
    const files = chainFiles(dir).length
    expect(files).toBeGreaterThan(3)
    const size1 = await checkAll(base, vkey, origin)
    const firstRun = checkpointRecords(dir)
    // One at open, one right after each rotation's header, one at close.
    expect(firstRun.length).toBe(files + 1)
    for (const r of firstRun.slice(1, -1)) expect(r.line).toBe(2)
    // A restart resumes the tree from the last file's checkpoint record.
    await run(transport, base, key, 100)
    const size2 = await checkAll(base, vkey, origin)
    expect(size2).toBeGreaterThan(size1 + 100)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

test('after kill -9 of a pino child, the next writer resumes from the chain and its checkpoints verify', async () => {
  const dir = tempDir()
  const base = path.join(dir, 'app.log')
  const origin = 'example.com/kill/app'
  const { key, vkey } = await keysIn(dir, origin)
  const killed = await run('pino', base, key, 150, 'signal', 'SIGKILL')
  expect(killed.signal).toBe('SIGKILL')
  await run('pino', base, key, 150)
  const size = await checkAll(base, vkey, origin)
  expect(size).toBeGreaterThan(150)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('two pino writers on one log: each extends the tree from the chain as it is under the lock', async () => {
  const dir = tempDir()
  const base = path.join(dir, 'app.log')
  const origin = 'example.com/two/app'
  const { key, vkey } = await keysIn(dir, origin)
  await Promise.all([run('pino', base, key, 400), run('pino', base, key, 400)])
  const size = await checkAll(base, vkey, origin)
  expect(size).toBeGreaterThan(800)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('records longer than the chunk the writer reads back (256 KiB) are taken into the tree whole', async () => {
  const dir = tempDir()
  const base = path.join(dir, 'app.log')
  const origin = 'example.com/long/app'
  const { key, vkey } = await keysIn(dir, origin)
  // Rotation every few records, a checkpoint at each: the tree reads back records of 300,000 bytes and more.
  const r = await runChild('pino-child.cjs', { file: base, count: 24, pad: 300_000, scenario: 'normal', options: { size: '1m', checkpointKey: key } })
  expect(r.code, r.stderr + r.stdout).toBe(0)
  expect(r.stdout).not.toContain('transport-error')
  expect(chainFiles(dir).length).toBeGreaterThan(3)
  expect(await checkAll(base, vkey, origin)).toBeGreaterThan(24)
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('an attacker who recomputes every hash', () => {
  let dir: string
  let base: string
  beforeAll(async () => {
    dir = tempDir()
    base = path.join(dir, 'app.log')
    const { key } = await keysIn(dir, 'example.com/attack/app')
    await run('pino', base, key, 200)
    return () => fs.rmSync(dir, { recursive: true, force: true })
  })

  const failure = async (): Promise<{ status: number | null; breaks: { file: string; line: number; reason: string; message: string }[] }> => {
    const r = await verifyLog(['--json', '--all', base])
    return { status: r.status, breaks: json<{ breaks: { file: string; line: number; reason: string; message: string }[] }>(r).breaks }
  }

  test('a tampered recorded root: a break at that record, exit 1', async () => {
    const copy = fs.mkdtempSync(path.join(dir, 'root-'))
    for (const f of chainFiles(dir)) fs.copyFileSync(f, path.join(copy, path.basename(f)))
    const target = checkpointRecords(copy)[3]!
    const files = chainFiles(copy)
    const fileIndex = files.indexOf(target.file)
    const forged = Buffer.alloc(32, 7).toString('base64')
    rechain(files, sha256, (stored, place) => (place.file === fileIndex && place.line === target.line ? stored.replace(target.meta.root, forged) : stored))
    const r = await verifyLog(['--json', path.join(copy, 'app.log')])
    expect(r.status).toBe(1)
    const brk = json<{ breaks: { file: string; line: number; reason: string; message: string }[] }>(r).breaks[0]!
    expect(brk).toMatchObject({ file: target.file, line: target.line, reason: 'CHECKPOINT_MISMATCH' })
    expect(brk.message).toContain(`root for ${target.meta.size} records is ${forged}, but the tree of the chain's records has root ${target.meta.root}`)
    const text = await verifyLog([path.join(copy, 'app.log')])
    expect(text.status).toBe(1)
    expect(text.stdout + text.stderr).toContain(`${target.file}:${target.line}`)
  })

  test('a user line rewritten, every hash recomputed: the next checkpoint record breaks', async () => {
    const files = chainFiles(dir)
    const recorded = checkpointRecords(dir)
    const victim = recorded[2]!
    const fileIndex = files.indexOf(victim.file)
    // The line after the checkpoint record in that file: a user line.
    rechain(files, sha256, (stored, place) => (place.file === fileIndex && place.line === victim.line + 1 ? stored.replace('line ', 'LINE ') : stored))
    const { status, breaks } = await failure()
    expect(status).toBe(1)
    expect(breaks.length).toBeGreaterThan(0)
    expect(breaks[0]).toMatchObject({ file: recorded[3]!.file, line: recorded[3]!.line, reason: 'CHECKPOINT_MISMATCH' })
    expect(breaks[0]!.message).toContain(`the checkpoint record's root for ${recorded[3]!.meta.size} records is ${recorded[3]!.meta.root}`)
  })
})

test('the frozen fixture (format-1/checkpoints): every recorded root verifies, and so does its app.log.checkpoint', async () => {
  const dir = path.join(__dirname, 'fixtures/format-1/checkpoints')
  const base = path.join(dir, 'app.log')
  const out = ok(await verifyLog([base, '--checkpoint', `${base}.checkpoint`, '--checkpoint-key', path.join(dir, 'checkpoint.vkey')]))
  expect(out).toContain('VALID')
  expect(checkpointRecords(dir).length).toBe(chainFiles(dir).length + 1)
})
