/**
 * The hash path (#17): the native batch loops and the per-record JS loops
 * give the same bytes and the same runs, the format's vectors go through the
 * batch loops of whichever path is in use, the path is the one asked for, and
 * a missing addon means the JS path, with identical output.
 *
 * This file runs in the `core` project (auto: native where it is built) and
 * in `core-js` (CHAINLOG_HASH_PATH=js), like the vector, tamper and fuzz suites.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createHashFn, escapeLine, GENESIS, metaLine, type Algorithm, type HashFn } from '../src/format'
import { describeHashPath, hashPath } from '../src/index'
import { RecordQueue } from '../src/queue'
import { newRunScan, scanRun, type RunScan } from '../src/run-scan'
import { FIXTURES, ROOT, tmpDir } from './helpers'

const vectors = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'vectors.json'), 'utf8')) as {
  hmacKey: string
  algorithms: Record<string, { line: string; stored: string; prev: string; record: string }[]>
}
const KEY = Buffer.from(vectors.hmacKey)
const wanted = process.env.CHAINLOG_HASH_PATH ?? ''

function fnFor(alg: Algorithm, key = KEY): HashFn {
  return createHashFn(alg, alg === 'hmac-sha256' ? { key } : {})
}

/** The same function without its batch hasher: the per-record JS loops. */
function perRecord(fn: HashFn): HashFn {
  return (data) => fn(data)
}

/**
 * Whether the install could build the addon (packages/native/install.js): a
 * C compiler and a C++ one (node-gyp links with it), and Node's headers
 * without a download (beside this Node, or npm's nodedir).
 */
function canBuild(): boolean {
  const has = (cmds: string[]) => cmds.some((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0)
  const headers = fs.existsSync(path.join(path.dirname(process.execPath), '..', 'include', 'node', 'node_api.h')) || !['', 'undefined', 'null'].includes(execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim())
  return has(['cc', 'gcc', 'clang']) && has(['c++', 'g++', 'clang++']) && headers
}

describe('which path', () => {
  test('is the one asked for: native wherever a compiler built the addon, unless CHAINLOG_HASH_PATH=js', () => {
    if (wanted === 'js') {
      expect(hashPath()).toBe('js')
      expect(describeHashPath()).toBe('js (crypto.hash; CHAINLOG_HASH_PATH=js)')
      expect(fnFor('sha256').batch).toBeUndefined()
    } else {
      // A machine that can build it must have built it at install: a failed build there is a defect, not a fallback.
      expect(hashPath()).toBe(canBuild() ? 'native' : 'js')
      if (hashPath() === 'native') {
        expect(describeHashPath()).toMatch(/^native \(@chainlog\/native, OpenSSL \d+\.\d+\.\d+/)
        expect(fnFor('sha256').batch).toBeDefined()
        expect(fnFor('hmac-sha256').batch).toBeDefined()
      }
    }
    // BLAKE3 stays in @noble/hashes on either path.
    expect(fnFor('blake3').batch).toBeUndefined()
  })

  test('a missing addon means the JS path, with the same bytes (a real child, the package present but not built)', () => {
    const dir = tmpDir()
    // The package as a machine without a compiler has it: its sources, no build/.
    const pkg = path.join(dir, 'native')
    fs.mkdirSync(pkg)
    for (const f of ['package.json', 'index.js']) fs.copyFileSync(path.join(ROOT, 'packages/native', f), path.join(pkg, f))
    const preload = path.join(dir, 'unbuilt.cjs')
    fs.writeFileSync(preload, `const M = require('node:module'); const r = M._resolveFilename; M._resolveFilename = function (req, ...a) { return r.call(this, req === '@chainlog/native' ? ${JSON.stringify(pkg)} : req, ...a) }\n`)
    const script = `
      const { describeHashPath } = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/index.js'))})
      const { createHashFn } = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/format.js'))})
      const { RecordQueue } = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/queue.js'))})
      const q = new RecordQueue()
      for (let i = 0; i < 500; i++) i % 7 ? q.pushBlock('{"n":' + i + '}\\n{"m":' + i + '}\\n') : q.push('line ' + i)
      const h = createHashFn('sha256')
      const b = q.encode('0'.repeat(64), h, Infinity, Infinity, true)
      process.stdout.write(JSON.stringify({ path: describeHashPath(), batch: h.batch !== undefined, sha: require('node:crypto').createHash('sha256').update(b.bytes).digest('hex') }))`
    const child = JSON.parse(execFileSync(process.execPath, ['-r', preload, '-e', script], { encoding: 'utf8', env: { ...process.env, CHAINLOG_HASH_PATH: '', NODE_DEBUG: '' } }))
    expect(child.path).toMatch(/^js \(crypto\.hash; @chainlog\/native is not built: Cannot find module '\.\/build\/Release\/chainlog_native\.node'/)
    expect(child.batch).toBe(false)
    const q = new RecordQueue()
    for (let i = 0; i < 500; i++) i % 7 ? q.pushBlock(`{"n":${i}}\n{"m":${i}}\n`) : q.push(`line ${i}`)
    const b = q.encode('0'.repeat(64), fnFor('sha256'), Infinity, Infinity, true)
    expect(child.sha).toBe(createHash('sha256').update(b.bytes).digest('hex'))
    // Asked for explicitly, a missing addon is an error, never a silent fallback.
    const forced = spawnSync(process.execPath, ['-r', preload, '-e', script], { encoding: 'utf8', env: { ...process.env, CHAINLOG_HASH_PATH: 'native' } })
    expect(forced.status).not.toBe(0)
    expect(forced.stderr).toMatch(/INVALID_OPTION: CHAINLOG_HASH_PATH=native, but @chainlog\/native is not built/)
  })

  test('NODE_DEBUG=chainlog: a writer says which path hashes its batches', () => {
    const dir = tmpDir()
    const script = `require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/index.js'))}).createChainWriter({ file: ${JSON.stringify(path.join(dir, 'app.log'))} }).then((w) => { w.write('x'); return w.close() })`
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'chainlog' } })
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`CHAINLOG \\d+: hash path: ${hashPath()} `))
  })

  test('a CHAINLOG_HASH_PATH that is not js, native or auto is refused with INVALID_OPTION', () => {
    const script = `require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/format.js'))}).createHashFn('sha256')`
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, CHAINLOG_HASH_PATH: 'fast' } })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('INVALID_OPTION: CHAINLOG_HASH_PATH="fast": expected js, native or auto')
  })
})

describe.each(['sha256', 'hmac-sha256', 'blake3'] as const)('%s: the batch loops', (alg) => {
  const cases = vectors.algorithms[alg]!
  const fn = fnFor(alg)

  test('encode the format vectors byte for byte, as blocks and as stored lines', () => {
    const expected = cases.map((c) => c.record).join('')
    const q = new RecordQueue()
    // Verbatim lines as one block each, the rest (escaped, metadata) as stored lines: both loops, in one batch.
    for (const c of cases) c.stored === c.line ? q.pushBlock(`${c.line}\n`) : q.push(c.stored)
    const b = q.encode(cases[0]!.prev, fn, Infinity, Infinity, true)
    expect(b.bytes.toString('utf8')).toBe(expected)
    expect(b.records).toBe(cases.length)
  })

  test('accept the vectors as one run, and stop at the first changed byte', () => {
    const buf = Buffer.from(cases.map((c) => c.record).join(''))
    const scan = newRunScan()
    scanRun(buf, 0, buf.length, cases[0]!.prev, fn, null, scan)
    // The run stops before metadata (the full logic's business); everything before it is accepted.
    const firstMeta = cases.findIndex((c) => c.stored.startsWith('\\m'))
    const accepted = firstMeta === -1 ? cases.length : firstMeta
    expect(scan.count).toBe(accepted)
    expect(scan.end).toBe(Buffer.byteLength(cases.slice(0, accepted).map((c) => c.record).join('')))
  })
})

/** Lines a logger may hand over: JSON, multibyte, pipes, long, and lines needing the escape. */
function randomLine(r: () => number): string {
  const kinds = [
    () => JSON.stringify({ level: 30, time: Math.floor(r() * 1e12), msg: 'req|done' }),
    () => 'é€😀'.repeat(1 + Math.floor(r() * 5)),
    () => 'x'.repeat(Math.floor(r() * 3000)),
    () => '',
    () => 'a\nb\r\\c',
    () => '\\m{"t":"header"}',
    () => 'lone \ud800 surrogate',
  ]
  return kinds[Math.floor(r() * kinds.length)]!()
}

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32)
}

describe.each(['sha256', 'hmac-sha256'] as const)('%s: native and per-record loops agree', (alg) => {
  const fn = fnFor(alg, randomBytes(alg === 'hmac-sha256' ? 100 : 32))
  const js = perRecord(fn)

  test('encode: random queues, limits and rooms give the same batches', () => {
    const r = rng(alg.length)
    for (let round = 0; round < 60; round++) {
      const build = (): RecordQueue => {
        const q = new RecordQueue()
        const rr = rng(round)
        for (let i = 0, n = Math.floor(rr() * 40); i < n; i++) {
          if (rr() < 0.5) q.push(escapeLine(randomLine(rr)))
          else if (rr() < 0.1) q.push(metaLine({ t: 'note', i }))
          else q.pushBlock(Array.from({ length: 1 + Math.floor(rr() * 20) }, () => `${JSON.stringify({ i, s: 'é'.repeat(Math.floor(rr() * 9)) })}\n`).join(''))
        }
        return q
      }
      const limit = r() < 0.3 ? Infinity : Math.floor(r() * 20_000)
      // A file already past its size leaves a negative room.
      const room = r() < 0.3 ? Infinity : Math.floor(r() * 20_000) - 2_000
      const mustTakeOne = r() < 0.5
      const a = build()
      const b = build()
      let prev = GENESIS
      for (let step = 0; step < 50 && a.length > 0; step++) {
        const x = a.encode(prev, fn, limit, room, mustTakeOne)
        const y = b.encode(prev, js, limit, room, mustTakeOne)
        expect({ ...x, bytes: x.bytes.toString('latin1') }).toEqual({ ...y, bytes: y.bytes.toString('latin1') })
        if (x.records === 0) break
        a.commit(x)
        b.commit(y)
        prev = x.prev
      }
    }
  })

  test('scan: every byte of a chain changed, and every limit, give the same runs', () => {
    const q = new RecordQueue()
    const r = rng(7)
    for (let i = 0; i < 24; i++) q.push(escapeLine(i % 6 === 3 ? 'multi\nline' : randomLine(r)))
    const original = Buffer.from(q.encode(GENESIS, fn, Infinity, Infinity, true).bytes)
    const same = (buf: Buffer, start: number, limit: number, expected: string, watch: string | null): void => {
      const x: RunScan = newRunScan()
      const y: RunScan = newRunScan()
      scanRun(buf, start, limit, expected, fn, watch, x)
      scanRun(buf, start, limit, expected, js, watch, y)
      expect(x).toEqual(y)
    }
    const watch = original.toString('latin1', original.indexOf(0x0a, 2000) - 64, original.indexOf(0x0a, 2000))
    for (let limit = 0; limit <= original.length; limit += 97) same(original, 0, limit, GENESIS, watch)
    same(original, 0, original.length, 'f'.repeat(64), null)
    same(original, 0, original.length, '', null)
    const step = Math.max(1, Math.floor(original.length / 1500))
    for (let at = 0; at < original.length; at += step) {
      const buf = Buffer.from(original)
      buf[at] = buf[at]! ^ (1 << (at % 8))
      same(buf, 0, buf.length, GENESIS, watch)
    }
  })
})
