/**
 * Checkpoints and proofs from the command line (#16), on logs written by the
 * real pino and winston transports, rotated and gzipped: keygen --checkpoint,
 * checkpoint, prove, verify-log --proof, verify-log --checkpoint with a
 * signed checkpoint, and consistency. Then the tamper corpus, generated
 * systematically: a bit flipped in every field of a proof bundle, a wrong
 * index, a proof for another size, another key, a truncated log, a log
 * rewritten from record k with every hash recomputed, a cosignature from an
 * unknown witness. Each fails with its exact reason and exit status.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { beforeAll, describe, expect, test } from 'vitest'
import { formatNote, NoteSigner, parseCheckpoint, parseNote, parseVerifierKey, verifyConsistency } from '@chainlog/core/format'
import { chainlog, json, oneLineError, verifyLog, type Result } from '../packages/cli/test/helpers'
import { runChild, tempDir } from './helpers/chain'
import { rechain, sha256 } from './helpers/rechain'
import type { ProofBundle as Bundle } from '../packages/cli/src/proof-check'


const TRANSPORTS = {
  pino: { script: 'pino-child.cjs', options: { size: '5000b', compress: true } },
  winston: { script: 'winston-child.cjs', options: { maxSize: 5000, zippedArchive: true } },
} as const

async function write(transport: keyof typeof TRANSPORTS, file: string, count: number): Promise<void> {
  const t = TRANSPORTS[transport]
  const r = await runChild(t.script, { file, count, scenario: 'normal', options: t.options })
  expect(r.code, r.stderr).toBe(0)
}

/** The log's files in chain order: app.1.log.gz, app.2.log.gz, …, app.N.log. */
function files(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => /^app\.\d+\.log(\.gz)?$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).map((n) => path.join(dir, n))
}

const ok = (r: Result) => {
  expect(r.status, r.stderr).toBe(0)
  return r.stdout
}

/** The error verify-log --json reports, with its exit status. */
async function failure(args: string[]): Promise<{ status: number | null; code: string; message: string }> {
  const asJson = await verifyLog(['--json', ...args])
  const err = json<{ error: { code: string; message: string } }>(asJson).error
  return { status: asJson.status, code: err.code, message: err.message }
}

interface Log {
  dir: string
  base: string
  keys: string
  vkey: string
  cp1: string
  cp2: string
  size1: number
  size2: number
}

/** A log of two runs of a transport, with a checkpoint after each (the second also in <base>.checkpoint). */
async function twoRuns(transport: keyof typeof TRANSPORTS): Promise<Log> {
  const dir = tempDir()
  const base = path.join(dir, 'app.log')
  const keys = path.join(dir, 'keys')
  await write(transport, base, 150)
  ok(await chainlog(['keygen', '--checkpoint', '--origin', `example.com/${transport}/app`, '--out', keys]))
  const cp1 = path.join(dir, 'cp1.txt')
  fs.writeFileSync(cp1, ok(await chainlog(['checkpoint', base, '--key', path.join(keys, 'checkpoint.key')])))
  // A restart continues the chain: the second checkpoint extends the first.
  await write(transport, base, 150)
  const cp2 = path.join(dir, 'cp2.txt')
  fs.writeFileSync(cp2, ok(await chainlog(['checkpoint', base, '--key', path.join(keys, 'checkpoint.key'), '--write'])))
  const sizeOf = (f: string) => parseCheckpoint(parseNote(fs.readFileSync(f, 'utf8')).text).size
  return { dir, base, keys, vkey: path.join(keys, 'checkpoint.vkey'), cp1, cp2, size1: sizeOf(cp1), size2: sizeOf(cp2) }
}

describe.each(['pino', 'winston'] as const)('a log written by %s', (transport) => {
  let log: Log
  beforeAll(async () => {
    log = await twoRuns(transport)
    return () => fs.rmSync(log.dir, { recursive: true, force: true })
  })

  test('keygen --checkpoint writes the key pair, the private one 0600, and refuses to overwrite it', async () => {
    expect(fs.statSync(path.join(log.keys, 'checkpoint.key')).mode & 0o777).toBe(0o600)
    const v = parseVerifierKey(fs.readFileSync(log.vkey, 'utf8'))
    expect(v.name).toBe(`example.com/${transport}/app`)
    const again = await chainlog(['keygen', '--checkpoint', '--out', log.keys])
    expect(again.status).toBe(2)
    expect(oneLineError(again)).toMatch(/^chainlog keygen: .*checkpoint\.key and .*checkpoint\.vkey already exist; refusing to overwrite a checkpoint key/)
  })

  test('the checkpoint covers every record of the rotated, gzipped log; --write keeps <log.base>.checkpoint', async () => {
    expect(files(log.dir).filter((f) => f.endsWith('.gz')).length).toBeGreaterThan(2)
    const report = json<{ records: number; status: string }>(await verifyLog(['--json', log.base]))
    expect(report.status).toBe('VALID')
    expect(log.size2).toBe(report.records)
    expect(log.size1).toBeLessThan(log.size2)
    expect(fs.readFileSync(`${log.base}.checkpoint`, 'utf8')).toBe(fs.readFileSync(log.cp2, 'utf8'))
  })

  test('verify-log --checkpoint with the key: the log extends both checkpoints', async () => {
    for (const [cp, n] of [[log.cp1, log.size1], [log.cp2, log.size2]] as const) {
      const r = await verifyLog([log.base, '--checkpoint', cp, '--checkpoint-key', log.vkey])
      expect(r.status, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`checkpoint +extended: example\\.com/${transport}/app, ${n} records, root [A-Za-z0-9+/=]{44} \\(from ${cp.replace(/[.]/g, '\\.')}, signature valid\\)`))
      const j = json<{ ok: boolean; signedCheckpoint: { extended: boolean; size: number } }>(await verifyLog(['--json', log.base, '--checkpoint', cp, '--checkpoint-key', log.vkey]))
      expect(j).toMatchObject({ ok: true, signedCheckpoint: { extended: true, size: n } })
    }
  })

  test('prove a line of a gzipped file; verify-log --proof checks it with no log at hand', async () => {
    const gz = files(log.dir).find((f) => f.endsWith('.gz'))!
    const bundle = JSON.parse(ok(await chainlog(['prove', log.base, `${gz}:3`]))) as Bundle
    expect(bundle.record).toBe(gunzipSync(fs.readFileSync(gz)).toString('utf8').split('\n')[2])
    expect(bundle).toMatchObject({ algorithm: 'sha256', size: log.size2, checkpoint: fs.readFileSync(log.cp2, 'utf8') })
    const file = path.join(log.dir, 'bundle.json')
    fs.writeFileSync(file, JSON.stringify(bundle))
    const r = await verifyLog(['--proof', file, '--checkpoint-key', log.vkey])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe(`VERIFIED: the record is leaf ${bundle.index} of the tree of ${log.size2} records signed by example.com/${transport}/app`)
    // Against the older checkpoint, given with --checkpoint: the bundle's size is that one's.
    const old = JSON.parse(ok(await chainlog(['prove', log.base, `${gz}:3`, '--checkpoint', log.cp1]))) as Bundle
    expect(old).toMatchObject({ index: bundle.index, size: log.size1, checkpoint: fs.readFileSync(log.cp1, 'utf8') })
    // A record after the older checkpoint cannot be proved against it.
    const last = files(log.dir).at(-1)!
    const late = await chainlog(['prove', log.base, `${last}:1`, '--checkpoint', log.cp1])
    expect(late.status).toBe(2)
    expect(oneLineError(late)).toMatch(new RegExp(`after the ${log.size1} records of the checkpoint`))
  })

  test('consistency prints the tlog-witness add-checkpoint body, and it verifies', async () => {
    const body = ok(await chainlog(['consistency', log.base, '--from', log.cp1, '--to', log.cp2]))
    const [head, rest] = [body.slice(0, body.indexOf('\n\n') + 1), body.slice(body.indexOf('\n\n') + 2)]
    const lines = head.split('\n').slice(0, -1)
    expect(lines[0]).toBe(`old ${log.size1}`)
    expect(rest).toBe(fs.readFileSync(log.cp2, 'utf8'))
    const root = (f: string) => parseCheckpoint(parseNote(fs.readFileSync(f, 'utf8')).text).root
    expect(verifyConsistency(log.size1, log.size2, lines.slice(1).map((l) => new Uint8Array(Buffer.from(l, 'base64'))), root(log.cp1), root(log.cp2))).toEqual({ ok: true })
    // --to defaults to <log.base>.checkpoint.
    expect(ok(await chainlog(['consistency', log.base, '--from', log.cp1]))).toBe(body)
  })
})

describe('tampering, on a log written by pino', () => {
  const transport = 'pino'
  let log: Log
  let bundle: Bundle
  let bundleFile: string
  beforeAll(async () => {
    log = await twoRuns(transport)
    const { dir, base } = log
    const gz = files(log.dir).find((f) => f.endsWith('.gz'))!
    bundle = JSON.parse(ok(await chainlog(['prove', log.base, `${gz}:4`]))) as Bundle
    bundleFile = path.join(log.dir, 'tampered.json')
    return () => fs.rmSync(log.dir, { recursive: true, force: true })
  })
  const check = async (b: Bundle, extra: string[] = []) => {
    fs.writeFileSync(bundleFile, JSON.stringify(b))
    return failure(['--proof', bundleFile, '--checkpoint-key', log.vkey, ...extra])
  }
  const flipChar = (s: string, i: number, bit: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ bit) + s.slice(i + 1)
  const flipB64 = (s: string, byte: number) => {
    const b = Buffer.from(s, 'base64')
    b[byte]! ^= 0x01
    return b.toString('base64')
  }

  test('a bit flipped in the record: in its prev, its line and its hash', async () => {
    const r = bundle.record
    // prev and line: the record no longer matches its own hash.
    for (const i of [0, 40, 64, 65, 70, r.length - 70, r.length - 66]) {
      const f = await check({ ...bundle, record: flipChar(r, i, 0x01) })
      expect([f.status, f.code], `char ${i}`).toEqual([1, 'PROOF_FAILED'])
      expect(f.message, `char ${i}`).toMatch(/^the bundle's record (does not match its own hash: its sha256 hash is [0-9a-f]{64}, the record says [0-9a-f]{64}|is not a chainlog record)/)
    }
    // Without --json: the same reason, as one line on stderr, and no stack trace.
    fs.writeFileSync(bundleFile, JSON.stringify({ ...bundle, record: flipChar(r, 70, 0x01) }))
    const text = await verifyLog(['--proof', bundleFile, '--checkpoint-key', log.vkey])
    expect(text.status).toBe(1)
    expect(oneLineError(text)).toMatch(/^verify-log: the bundle's record does not match its own hash: its sha256 hash is [0-9a-f]{64}, the record says [0-9a-f]{64}$/)
    // The hash: a digit that stays hex leaves a well-formed record that fails its own hash.
    const at = r.length - 1 - [...r].reverse().findIndex((c) => /[0-9]/.test(c))
    const f = await check({ ...bundle, record: flipChar(r, at, 0x01) })
    expect(f).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: expect.stringMatching(/^the bundle's record does not match its own hash/) })
  })

  test('a bit flipped in the algorithm, the index and the size', async () => {
    expect(await check({ ...bundle, algorithm: flipChar(bundle.algorithm, 0, 0x01) })).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: 'the bundle\'s algorithm "rha256" is not one chainlog knows' })
    for (const bit of [0, 1, 4]) {
      const index = bundle.index ^ (1 << bit)
      const f = await check({ ...bundle, index })
      expect(f, `index bit ${bit}`).toMatchObject({ status: 1, code: 'PROOF_FAILED' })
      expect(f.message).toMatch(index >= log.size2 ? /is not a leaf of a tree/ : new RegExp(`^the inclusion proof does not hold: the inclusion proof of leaf ${index} leads to root [A-Za-z0-9+/=]{44}, not to the tree's root`))
    }
    for (const bit of [0, 3, 8]) {
      const size = bundle.size ^ (1 << bit)
      expect(await check({ ...bundle, size }), `size bit ${bit}`).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: `the bundle's size ${size} is not the size of its checkpoint (${log.size2} records)` })
    }
  })

  test('a bit flipped in every hash of the proof', async () => {
    expect(bundle.proof.length).toBeGreaterThan(4)
    for (let i = 0; i < bundle.proof.length; i++) {
      for (const byte of [0, 17, 31]) {
        const proof = bundle.proof.map((h, j) => (j === i ? flipB64(h, byte) : h))
        expect(await check({ ...bundle, proof }), `hash ${i} byte ${byte}`).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: expect.stringMatching(/^the inclusion proof does not hold: the inclusion proof of leaf \d+ leads to root .*, not to the tree's root/) })
      }
    }
    expect(await check({ ...bundle, proof: bundle.proof.slice(1) })).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: expect.stringMatching(new RegExp(`has ${bundle.proof.length} hashes; this one has ${bundle.proof.length - 1}`)) })
  })

  test('a bit flipped in each part of the checkpoint: origin, size, root, separator, signature name, key id and signature', async () => {
    // Every byte of a checkpoint is flipped in packages/core/test/note.test.ts; here one per part, through the CLI.
    const note = bundle.checkpoint
    const lines = note.split('\n')
    const at = (line: number, col: number) => lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + col
    const sig = lines[4]!
    // The text parts get a bit flipped in a character; the base64 parts (the root, and the
    // signature line's key id and signature) a bit flipped in a decoded byte, so that what is
    // tested is the flipped value and never, by chance, a character outside base64.
    const inBase64 = (line: number, start: number, byte: number) => {
      const text = lines[line]!.slice(start)
      const flipped = flipB64(text, byte)
      return lines.map((l, j) => (j === line ? l.slice(0, start) + flipped : l)).join('\n')
    }
    const sigStart = sig.lastIndexOf(' ') + 1
    const cases: [string, string, string, RegExp][] = [
      ['origin', flipChar(note, at(0, 3), 0x01), 'CHECKPOINT_UNVERIFIED', /^the signature of .* does not verify|^no signature by a known key/],
      ['size', flipChar(note, at(1, 0), 0x01), 'CHECKPOINT_UNVERIFIED', /^the signature of example\.com\/\w+\/app \(key id [0-9a-f]{8}\) does not verify: the note was altered or signed by another key$/],
      ['root', inBase64(2, 0, 7), 'CHECKPOINT_UNVERIFIED', /does not verify: the note was altered/],
      ['blank line', flipChar(note, at(3, 0), 0x01), 'PROOF_FAILED', /^the bundle's checkpoint is malformed: /],
      ['signature name', flipChar(note, at(4, sig.indexOf(' ') + 3), 0x01), 'CHECKPOINT_UNVERIFIED', /^no signature by a known key/],
      ['key id', inBase64(4, sigStart, 1), 'CHECKPOINT_UNVERIFIED', /^no signature by a known key/],
      ['signature', inBase64(4, sigStart, 60), 'CHECKPOINT_UNVERIFIED', /does not verify: the note was altered/],
    ]
    for (const [part, checkpoint, code, message] of cases) {
      expect(checkpoint, part).not.toBe(note)
      const f = await check({ ...bundle, checkpoint })
      expect([part, f.status, f.code], f.message).toEqual([part, 1, code])
      expect(f.message, part).toMatch(message)
    }
  })

  test('a proof for another size: the older checkpoint with the newer proof, and the reverse', async () => {
    const older = fs.readFileSync(log.cp1, 'utf8')
    expect(await check({ ...bundle, checkpoint: older })).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: `the bundle's size ${log.size2} is not the size of its checkpoint (${log.size1} records)` })
    const f = await check({ ...bundle, checkpoint: older, size: log.size1 })
    expect(f).toMatchObject({ status: 1, code: 'PROOF_FAILED', message: expect.stringMatching(/^the inclusion proof does not hold: /) })
  })

  test('a checkpoint signed by another key of the same origin', async () => {
    const other = path.join(log.dir, 'other-keys')
    ok(await chainlog(['keygen', '--checkpoint', '--origin', `example.com/${transport}/app`, '--out', other]))
    const forged = ok(await chainlog(['checkpoint', log.base, '--key', path.join(other, 'checkpoint.key')]))
    const f = await check({ ...bundle, checkpoint: forged })
    expect(f).toMatchObject({ status: 1, code: 'CHECKPOINT_UNVERIFIED' })
    const id = (v: string) => v.split('+')[1]
    expect(f.message).toBe(`no signature by a known key: the note is signed by example.com/${transport}/app (${id(fs.readFileSync(path.join(other, 'checkpoint.vkey'), 'utf8'))}); the keys given are example.com/${transport}/app (${id(fs.readFileSync(log.vkey, 'utf8'))})`)
  })

  test('a cosignature from an unknown witness, where one from a known witness is required', async () => {
    const known = NoteSigner.generate('witness.example/known')
    const unknown = NoteSigner.generate('witness.example/unknown')
    const knownKey = path.join(log.dir, 'known.wkey')
    fs.writeFileSync(knownKey, known.cosignerKey() + '\n')
    const note = parseNote(bundle.checkpoint)
    const cosigned = formatNote({ text: note.text, signatures: [...note.signatures, unknown.cosign(note.text, BigInt(Math.floor(Date.now() / 1000)))] })
    expect(await check({ ...bundle, checkpoint: cosigned }, ['--witness-key', knownKey])).toMatchObject({ status: 1, code: 'CHECKPOINT_UNVERIFIED', message: 'the checkpoint has no cosignature by the witness witness.example/known (it has signatures by witness.example/unknown, whose keys were not given)' })
    // With the known witness's cosignature it verifies, and says so.
    const good = formatNote({ text: note.text, signatures: [...note.signatures, known.cosign(note.text, 1_800_000_000n)] })
    fs.writeFileSync(bundleFile, JSON.stringify({ ...bundle, checkpoint: good }))
    const r = await verifyLog(['--proof', bundleFile, '--checkpoint-key', log.vkey, '--witness-key', knownKey])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/cosigned +by witness\.example\/known at 2027-01-15T08:00:00\.000Z/)
  })

  test('a bundle that is not a bundle is unusable input (exit 2)', async () => {
    fs.writeFileSync(bundleFile, '{"record": 1}')
    const f = await failure(['--proof', bundleFile, '--checkpoint-key', log.vkey])
    expect(f).toMatchObject({ status: 2, code: 'BAD_PROOF', message: `${bundleFile} is not a proof bundle (as chainlog prove prints it): its record must be a string` })
  })

  test('a log truncated at a record boundary, checked against an older checkpoint', async () => {
    const copy = path.join(tempDir(), 'copy')
    fs.cpSync(log.dir, copy, { recursive: true })
    try {
      const last = files(copy).at(-1)!
      const lines = fs.readFileSync(last, 'utf8').split('\n').slice(0, -1)
      fs.writeFileSync(last, lines.slice(0, -3).map((l) => l + '\n').join(''))
      const cb = path.join(copy, 'app.log')
      // The chain alone cannot tell: every record left links.
      expect((await verifyLog([cb])).status).toBe(0)
      const r = await verifyLog([cb, '--checkpoint', log.cp2, '--checkpoint-key', log.vkey])
      expect(r.status).toBe(1)
      expect(r.stdout.split('\n')[0]).toBe(`TRUNCATED: the log does not extend the signed checkpoint ${log.cp2} (${log.size2} records)`)
      expect(r.stdout).toContain(`found      the log holds ${log.size2 - 3} records, fewer than the ${log.size2} of the checkpoint: records were cut from the end`)
      const j = json<{ ok: boolean; signedCheckpoint: { failure: string } }>(await verifyLog(['--json', cb, '--checkpoint', log.cp2, '--checkpoint-key', log.vkey]))
      expect(j).toMatchObject({ ok: false, signedCheckpoint: { failure: 'TRUNCATED' } })
    } finally {
      fs.rmSync(path.dirname(copy), { recursive: true, force: true })
    }
  })

  test.each([2, 5])('a log rewritten from the record on line %i of file 2, every hash recomputed, checked against an older checkpoint', async (line) => {
    const copy = path.join(tempDir(), 'copy')
    fs.cpSync(log.dir, copy, { recursive: true })
    try {
      const all = files(copy)
      const lastOfFirst = gunzipSync(fs.readFileSync(all[0]!)).toString('utf8').trimEnd().split('\n').at(-1)!.slice(-64)
      rechain(all.slice(1), sha256, (stored, place) => (place.file === 0 && place.line === line ? stored.replace('line', 'LINE') : stored), lastOfFirst)
      const cb = path.join(copy, 'app.log')
      expect((await verifyLog([cb])).status).toBe(0)
      for (const [cp, n] of [[log.cp1, log.size1], [log.cp2, log.size2]] as const) {
        const r = await verifyLog([cb, '--checkpoint', cp, '--checkpoint-key', log.vkey])
        expect(r.status).toBe(1)
        expect(r.stdout.split('\n')[0]).toBe(`REWRITTEN: the log does not extend the signed checkpoint ${cp} (${n} records)`)
        expect(r.stdout).toMatch(new RegExp(`found +the tree of the log's first ${n} records has root \\S+, not the checkpoint's \\S+: records before record ${n} were changed, removed or inserted`))
      }
    } finally {
      fs.rmSync(path.dirname(copy), { recursive: true, force: true })
    }
  })

  test('a log whose first files retention deleted has no tree: CHAIN_INCOMPLETE (exit 2), for checkpoint and for verify-log', async () => {
    const d = tempDir()
    try {
      const file = path.join(d, 'app.log')
      const r = await runChild('pino-child.cjs', { file, count: 200, scenario: 'normal', options: { size: '4000b', limit: { count: 1 } } })
      expect(r.code, r.stderr).toBe(0)
      expect(fs.existsSync(path.join(d, 'app.1.log'))).toBe(false)
      const cp = await chainlog(['checkpoint', file, '--key', path.join(log.keys, 'checkpoint.key')])
      expect(cp.status).toBe(2)
      expect(oneLineError(cp)).toMatch(/^chainlog checkpoint: \S+app\.\d+\.log is file \d+ of its chain and the files before it are not in the input \(deleted by retention\?\)/)
      const v = await failure([file, '--checkpoint', log.cp1, '--checkpoint-key', log.vkey])
      expect(v).toMatchObject({ status: 2, code: 'CHAIN_INCOMPLETE' })
    } finally {
      fs.rmSync(d, { recursive: true, force: true })
    }
  })
})
