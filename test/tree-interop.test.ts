/**
 * Interop with code nobody here wrote (#16): Go's golang.org/x/mod/sumdb/note
 * and .../tlog, the reference implementations of signed notes and RFC 6962
 * proofs, check chainlog's checkpoints, inclusion and consistency proofs and
 * roots, over logs written by the real pino and winston transports (rotated
 * and gzipped); and chainlog accepts the notes and proofs Go makes.
 */
import * as path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { chainTree, verify } from '@chainlog/core'
import { MerkleTree, NoteSigner, openCheckpoint, parseNote, parseVerifierKey, recordLeaf, signCheckpoint, verifyConsistency, verifyInclusion } from '@chainlog/core/format'
import * as fs from 'node:fs'
import { chainlog } from '../packages/cli/test/helpers'
import { runChild, testDir } from './helpers/chain'
import { buildGo, runGoJson } from './helpers/go'

interface GoAnswer {
  notes: { ok: boolean; error: string; text?: string; signers?: string[]; unknown?: string[] }[]
  roots: { [size: string]: string }
  inclusion: string[]
  consistency: string[]
  proofs: string[][]
  treeProofs: string[][]
  signed?: { vkey: string; note: string }
}

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
let checker: string

beforeAll(() => {
  checker = buildGo('tlogcheck')
})

/** A rotated, gzipped log written by a real transport in a child process. */
async function writeWith(transport: 'pino' | 'winston', dir: string): Promise<string> {
  const file = path.join(dir, 'app.log')
  const options = transport === 'pino' ? { size: '6000b', compress: true } : { maxSize: 6000, zippedArchive: true }
  const r = await runChild(`${transport}-child.cjs`, { file, count: 400, scenario: 'normal', options })
  expect(r.code, r.stderr).toBe(0)
  return file
}

async function recordHashes(base: string): Promise<string[]> {
  const hashes: string[] = []
  const report = await verify(base, { onRecord: (h) => hashes.push(h) })
  expect(report.verdict).toBe('VALID')
  return hashes
}

describe.each(['pino', 'winston'] as const)('a log written by %s', (transport) => {
  test('Go opens chainlog checkpoints, accepts its proofs and computes its roots; chainlog accepts what Go makes', async () => {
    const dir = testDir()
    const base = await writeWith(transport, dir)
    const { tree, report } = await chainTree(base)
    expect(report.files.some((f) => f.endsWith('.gz'))).toBe(true)
    expect(report.files.length).toBeGreaterThan(3)
    const hashes = await recordHashes(base)
    expect(tree.size).toBe(hashes.length)
    const n = tree.size
    const signer = NoteSigner.generate('example.com/interop/' + transport)
    const note = signCheckpoint({ origin: signer.name, size: n, root: tree.root() }, signer)
    const sizes = [1, 2, 3, 4, 7, 8, 9, Math.floor(n / 2), n - 1, n]
    const indexes = [0, 1, Math.floor(n / 3), n - 2, n - 1]
    const pairs = [[1, n], [2, 3], [7, 8], [8, n], [Math.floor(n / 2), n], [n - 1, n], [3, Math.floor(n / 2)]] as const
    const inclusion = indexes.flatMap((index) => [n, index + 1].map((size) => ({ index, size, leafHash: b64(tree.leaf(index)), proof: tree.inclusionProof(index, size).map(b64), root: b64(tree.root(size)) })))
    const consistency = pairs.map(([from, to]) => ({ from, to, proof: tree.consistencyProof(from, to).map(b64), oldRoot: b64(tree.root(from)), newRoot: b64(tree.root(to)) }))
    // One of each altered, so that the checker is seen to refuse too.
    const badInclusion = { ...inclusion[2]!, proof: [b64(tree.leaf(5)), ...inclusion[2]!.proof.slice(1)] }
    const badConsistency = { ...consistency[4]!, oldRoot: b64(tree.root(consistency[4]!.from - 1)) }
    const go = runGoJson<GoAnswer>(checker, {
      verifierKeys: [signer.verifierKey()],
      notes: [note, note.replace(`\n${n}\n`, `\n${n + 1}\n`)],
      records: hashes,
      sizes: [0, ...sizes],
      inclusion: [...inclusion, badInclusion],
      consistency: [...consistency, badConsistency],
      prove: inclusion.map(({ index, size }) => ({ index, size })),
      proveTree: pairs.map(([from, to]) => ({ from, to })),
      sign: { origin: 'example.org/go-log', text: `example.org/go-log\n${n}\n${b64(tree.root())}\n` },
    })

    // note.Open verifies chainlog's checkpoint with chainlog's verifier key, and refuses an altered one.
    expect(go.notes[0]).toMatchObject({ ok: true, text: parseNote(note).text, signers: [signer.name] })
    expect(go.notes[1]).toMatchObject({ ok: false, error: expect.stringMatching(/invalid signature/) })
    // tlog.TreeHash over the records' hashes gives chainlog's roots (size 0 aside: Go returns 32 zero bytes, RFC 6962 says SHA-256 of nothing).
    for (const s of sizes) expect(go.roots[s], `size ${s}`).toBe(b64(tree.root(s)))
    expect(go.roots[0]).toBe(b64(new Uint8Array(32)))
    // tlog.CheckRecord and tlog.CheckTree accept chainlog's proofs, and refuse the altered ones.
    expect(go.inclusion.slice(0, -1)).toEqual(inclusion.map(() => 'ok'))
    expect(go.inclusion.at(-1)).not.toBe('ok')
    expect(go.consistency.slice(0, -1)).toEqual(consistency.map(() => 'ok'))
    expect(go.consistency.at(-1)).not.toBe('ok')

    // The other direction: Go's proofs are the same hashes, and chainlog's verifier accepts them.
    go.proofs.forEach((proof, i) => {
      const { index, size, root } = inclusion[i]!
      expect(verifyInclusion(recordLeaf(hashes[index]!), index, size, proof.map(unb64), unb64(root))).toEqual({ ok: true })
      expect(proof).toEqual(inclusion[i]!.proof)
    })
    go.treeProofs.forEach((proof, i) => {
      const { from, to, oldRoot, newRoot } = consistency[i]!
      expect(verifyConsistency(from, to, proof.map(unb64), unb64(oldRoot), unb64(newRoot))).toEqual({ ok: true })
      expect(proof).toEqual(consistency[i]!.proof)
    })
    // A note Go signed with a key Go made opens with chainlog, as a checkpoint of this tree.
    const opened = openCheckpoint(go.signed!.note, parseVerifierKey(go.signed!.vkey))
    expect(opened).toMatchObject({ origin: 'example.org/go-log', size: n })
    expect(b64(opened.root)).toBe(b64(tree.root()))
    // What the CLI prints: Go opens `chainlog checkpoint` with the vkey of `keygen --checkpoint`,
    // accepts the inclusion proof of `chainlog prove` and the consistency proof of `chainlog consistency`.
    const keys = path.join(dir, 'keys')
    const run = async (args: string[]) => {
      const r = await chainlog(args)
      expect(r.status, r.stderr).toBe(0)
      return r.stdout
    }
    await run(['keygen', '--checkpoint', '--origin', `example.com/cli/${transport}`, '--out', keys])
    const vkey = fs.readFileSync(path.join(keys, 'checkpoint.vkey'), 'utf8').trim()
    const oldCp = path.join(dir, 'old.cp')
    fs.writeFileSync(oldCp, signCheckpoint({ origin: `example.com/cli/${transport}`, size: 7, root: tree.root(7) }, NoteSigner.parse(fs.readFileSync(path.join(keys, 'checkpoint.key'), 'utf8'))))
    const cliNote = await run(['checkpoint', base, '--key', path.join(keys, 'checkpoint.key'), '--write'])
    const gz = report.files.find((f) => f.endsWith('.gz'))!
    const bundle = JSON.parse(await run(['prove', base, `${gz}:2`])) as { index: number; size: number; proof: string[]; record: string }
    const body = await run(['consistency', base, '--from', oldCp])
    const proofLines = body.slice(0, body.indexOf('\n\n')).split('\n').slice(1)
    const cli = runGoJson<GoAnswer>(checker, {
      verifierKeys: [vkey],
      notes: [cliNote],
      records: hashes,
      sizes: [],
      inclusion: [{ index: bundle.index, size: bundle.size, leafHash: b64(recordLeaf(bundle.record.slice(-64))), proof: bundle.proof, root: b64(tree.root()) }],
      consistency: [{ from: 7, to: n, proof: proofLines, oldRoot: b64(tree.root(7)), newRoot: b64(tree.root()) }],
      prove: [],
      proveTree: [],
    })
    expect(cli.notes[0]).toMatchObject({ ok: true, signers: [`example.com/cli/${transport}`] })
    expect(cli.inclusion).toEqual(['ok'])
    expect(cli.consistency).toEqual(['ok'])
    expect(bundle.record.slice(-64)).toBe(hashes[bundle.index])

    // And chainlog's tree of those hashes, built afresh, agrees (no state shared with chainTree).
    const fresh = new MerkleTree()
    for (const h of hashes) fresh.append(recordLeaf(h))
    expect(b64(fresh.root())).toBe(b64(tree.root()))
  })
})
