/**
 * chainlog inspect and chainlog head, and the truncation check they enable:
 * verify-log --checkpoint / --expect-head / --expect-count → TRUNCATED.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter } from '@chainlog/core'
import { chainlog, hashOf, json, keepLines, lineCount, linesOf, logFiles, oneLineError, pinoLine, tmpDir, verifyLog, writeChain } from './helpers'

const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => pinoLine(from + i))

/** A chain with rotation, gzip, retention and a recovered torn tail. */
async function eventfulChain(dir: string): Promise<string[]> {
  const files = await writeChain(dir, lines(40), { size: 2000, compress: true, limit: { count: 3 } })
  fs.appendFileSync(files.at(-1)!, linesOf(files.at(-1)!).at(-1)!.subarray(0, 50))
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), size: 2000, compress: true, limit: { count: 3 } })
  w.write(pinoLine(40))
  await w.close()
  return logFiles(dir)
}

describe('chainlog inspect', () => {
  test('files with index, records and sizes; algorithm, chain, head; retention and recovery records', async () => {
    const dir = tmpDir()
    const files = await eventfulChain(dir)
    const r = await chainlog(['inspect', dir])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const v = json<{ chain: string; head: string; count: number; records: number }>(await verifyLog(['--json', dir]))
    const out = r.stdout
    expect(out).toContain(`chain      ${v.chain}\n`)
    expect(out).toContain('algorithm  sha256\n')
    expect(out).toContain(`records    ${v.records} verified\n`)
    expect(out).toContain(`head       ${v.head} (record ${v.count} of the chain)\n`)
    expect(out).toContain('status     VALID\n')
    expect(out).toMatch(/\nfile +index +records +size +first time +last time +started\n/)
    for (const f of files) expect(out).toMatch(new RegExp(`\\n${f.replace(/\./g, '\\.')} +\\d+ +\\d+ +[\\d.]+ (B|KiB) +2026-11-22T10:`))
    expect(out).toMatch(/\n {2}\S+app\.\d+\.log(\.gz)?:\d+ {2}retention {2}\S+: deleted app\.1\.log \(index 0, \d+ lines, last hash [0-9a-f]{16}…\)/)
    expect(out).toMatch(/\n {2}\S+app\.\d+\.log(\.gz)?:\d+ {2}recovery {3}\S+: torn tail of 50 bytes terminated \(sha256 [0-9a-f]{16}…\)/)
  })

  test('--json', async () => {
    const dir = tmpDir()
    const files = await eventfulChain(dir)
    const r = await chainlog(['inspect', '--json', dir])
    expect(r.status).toBe(0)
    const j = json<{ ok: boolean; files: { path: string; index: number; records: number; lines: number; size: number }[]; metadata: { type?: string; t: string; file: string; line: number }[] }>(r)
    expect(j.ok).toBe(true)
    // The verdict is core's: the torn tail the writer recovered shows in it.
    expect((j as { status?: string }).status).toBe('VALID_RECOVERED')
    expect(j.files.map((f) => f.path)).toEqual(files)
    for (const f of j.files) expect(f.size).toBe(fs.statSync(f.path).size)
    for (const f of j.files) expect(f.lines).toBe(lineCount(f.path))
    expect(j.metadata.map((m) => m.t)).toContain('retention')
    const recovery = j.metadata.filter((m) => m.t === 'recovery')
    expect(recovery).toEqual([expect.objectContaining({ reason: 'torn-tail', length: 50 })])
    // The terminated fragment is a line of its file but not a record.
    const torn = j.files.find((f) => f.path === recovery[0]!.file)!
    expect(torn.records).toBe(torn.lines - 1)
    expect(j.files.filter((f) => f !== torn).every((f) => f.records === f.lines)).toBe(true)
  })

  test('a broken chain: described, with the break named, exit 1', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, lines(20), { size: 2000 })
    keepLines(files[0]!, 4)
    const r = await chainlog(['inspect', dir])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`status     BROKEN: 1 break, the first at ${files[1]}:1 (PREV_MISMATCH); run verify-log for details\n`)
  })
})

describe('chainlog head and the truncation check', () => {
  test('head prints hash and count as one JSON line, equal to verify-log’s head', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, lines(25), { size: 2000 })
    const r = await chainlog(['head', dir])
    expect(r.status).toBe(0)
    expect(r.stdout.endsWith('\n')).toBe(true)
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    const h = json<{ chain: string; hash: string; count: number; records: number; time: string }>(r)
    const count = files.reduce((n, f) => n + lineCount(f), 0)
    expect(h).toEqual({ chain: expect.stringMatching(/^[0-9a-f]{32}$/), hash: hashOf(linesOf(files.at(-1)!).at(-1)!), count, records: count, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
    const v = json<{ head: string; count: number }>(await verifyLog(['--json', dir]))
    expect([v.head, v.count]).toEqual([h.hash, h.count])
    // One head shape: --json carries it under the names chainlog head uses.
    expect(json<{ hash: string; count: number }>(await verifyLog(['--json', dir]))).toMatchObject({ hash: h.hash, count: h.count })
  })

  test('head refuses a broken chain: nothing on stdout, exit 1', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, lines(10))
    keepLines(files[0]!, 3)
    fs.appendFileSync(files[0]!, linesOf(files[0]!)[1]!.toString() + '\n')
    const r = await chainlog(['head', dir])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(oneLineError(r)).toMatch(new RegExp(`^chainlog head: the chain is broken at ${files[0]!.replace(/\./g, '\\.')}:4 \\(PREV_MISMATCH: .*\\); it has no trustworthy head\\. Run verify-log for details$`))
  })

  test('a chain that grew since the checkpoint still reaches it', async () => {
    const dir = tmpDir()
    await writeChain(dir, lines(20), { size: 2000 })
    const cp = path.join(dir, 'head.json')
    fs.writeFileSync(cp, (await chainlog(['head', dir])).stdout)
    const { count } = JSON.parse(fs.readFileSync(cp, 'utf8')) as { count: number }
    await writeChain(dir, lines(20, 20), { size: 2000 })
    const r = await verifyLog(['--checkpoint', cp, dir])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(r.stdout).toContain(`  checkpoint reached: head `)
    expect(r.stdout).toContain(` is record ${count} (from ${cp})\n`)
  })

  test('records cut from the end since the checkpoint: TRUNCATED, exit 1', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, lines(30), { size: 2000 })
    const head = json<{ hash: string; count: number }>(await chainlog(['head', dir]))
    const cp = path.join(dir, 'head.json')
    fs.writeFileSync(cp, JSON.stringify(head))
    // Truncation at a record boundary leaves a valid, shorter chain: only the checkpoint shows it.
    const last = files.at(-1)!
    keepLines(last, lineCount(last) - 3)
    expect((await verifyLog([dir])).status).toBe(0)
    const r = await verifyLog(['--checkpoint', cp, dir])
    expect(r.status).toBe(1)
    expect(r.stdout.split('\n')[0]).toBe('TRUNCATED: the chain no longer reaches the expected head')
    expect(r.stdout).toContain(`  expected   head ${head.hash} at record ${head.count} (from ${cp})\n`)
    expect(r.stdout).toContain(`  found      the chain ends at record ${head.count - 3}, before the expected head at record ${head.count}\n`)
    const j = json<{ ok: boolean; status: string; checkpoint: unknown }>(await verifyLog(['--json', '--checkpoint', cp, dir]))
    expect(j).toMatchObject({ ok: false, status: 'TRUNCATED', checkpoint: { hash: head.hash, count: head.count, reached: false, foundAt: null } })
    const flags = await verifyLog(['--expect-head', head.hash, '--expect-count', String(head.count), dir])
    expect(flags.status).toBe(1)
    expect(flags.stdout).toMatch(/^TRUNCATED/)
    const countOnly = await verifyLog(['--expect-count', String(head.count), dir])
    expect(countOnly.status).toBe(1)
    expect(countOnly.stdout).toContain(`  found      the chain ends at record ${head.count - 3}, before the expected record count ${head.count}\n`)
    expect((await verifyLog(['--expect-count', String(head.count - 3), dir])).status).toBe(0)
  })

  test('a chain rebuilt from scratch no longer holds the head: TRUNCATED; the verify-log --json object works as a checkpoint', async () => {
    const dir = tmpDir()
    await writeChain(dir, lines(10))
    const cp = path.join(dir, 'verify.json')
    fs.writeFileSync(cp, (await verifyLog(['--json', dir])).stdout)
    for (const f of logFiles(dir)) fs.rmSync(f)
    await writeChain(dir, lines(12).map((l) => l.replace('served', 'rewritten')))
    const r = await verifyLog(['--checkpoint', cp, dir])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^TRUNCATED/)
    expect(r.stdout).toContain('no record of the chain has the expected head hash')
  })

  test('a bad checkpoint file is a usage error', async () => {
    const dir = tmpDir()
    const cp = path.join(dir, 'cp.json')
    fs.writeFileSync(cp, '{"hash":"abc"}')
    const r = await verifyLog(['--checkpoint', cp, dir])
    expect(r.status).toBe(2)
    expect(oneLineError(r)).toBe(`verify-log: checkpoint ${cp} must hold {"hash": "<64 hex>", "count": <number>} as printed by chainlog head`)
  })
})
