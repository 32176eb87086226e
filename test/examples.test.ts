// Every example in examples/ run as a user runs it (a child process, the
// command examples/README.md shows, with an output directory added), so that
// none of them can rot: exit status, the key lines of its output, and an
// independent look at the log it left (core's verifier, the Python script of
// FORMAT.md §10, the lines themselves). The HTTP service gets real requests
// on 127.0.0.1 and a real SIGTERM.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadVerifyKey } from '@chainlog/core'
import { chainFiles, coreVerify, pythonVerify, ROOT, tempDir, userLines, type ChildResult } from './helpers/chain'

const EXAMPLES = path.join(ROOT, 'examples')
const out = tempDir('chainlog-examples-')
afterAll(() => fs.rmSync(out, { recursive: true, force: true }))

beforeAll(() => {
  // The examples load the built packages and run the CLI's executables, as a user's project would.
  for (const built of ['core/dist/index.js', 'pino/dist/index.js', 'winston/dist/index.js', 'cli/dist/verify-log.js', 'cli/dist/chainlog.js']) {
    if (!fs.existsSync(path.join(ROOT, 'packages', built))) throw new Error(`packages/${built} is missing: run npx turbo run build first`)
  }
  for (const bin of ['verify-log', 'chainlog', 'pino-pretty']) {
    if (!fs.existsSync(path.join(ROOT, 'node_modules/.bin', bin))) throw new Error(`node_modules/.bin/${bin} is missing: run npm install (examples/package.json depends on @chainlog/cli and pino-pretty)`)
  }
})

interface Started {
  child: ReturnType<typeof spawn>
  /** Resolves once the child printed a line matching `pattern`, with the match. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>
  done: Promise<ChildResult>
}

/** Starts `examples/<name>` with the output directory as its argument. */
function start(name: string, env: NodeJS.ProcessEnv = {}): Started {
  const command = name.endsWith('.sh') ? 'bash' : process.execPath
  const child = spawn(command, [path.join(EXAMPLES, name), out], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = []
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    for (const w of [...waiters]) {
      const m = stdout.match(w.pattern)
      if (m) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(m)
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const waitFor = (pattern: RegExp, ms = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const m = stdout.match(pattern)
      if (m) return resolve(m)
      const timer = setTimeout(() => reject(new Error(`${name} did not print ${pattern} within ${ms} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)), ms)
      waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) })
      void done.then(() => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before printing ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`))
      })
    })
  return { child, waitFor, done }
}

/** Runs an example to its end; a non-zero exit fails with its output. */
async function run(name: string): Promise<ChildResult> {
  const r = await start(name).done
  expect(r.code, `${name} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0)
  return r
}

const json = (lines: string[]) => lines.map((l) => JSON.parse(l) as { [k: string]: unknown })

test('examples/README.md lists every example with its command, and this file runs each of them', () => {
  const readme = fs.readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8')
  const files = fs.readdirSync(EXAMPLES).filter((f) => /\.(mjs|cjs|sh)$/.test(f))
  const tested = fs.readFileSync(__filename, 'utf8')
  expect(files.length).toBeGreaterThanOrEqual(8)
  for (const f of files) {
    expect(readme, `README command for ${f}`).toMatch(new RegExp(`(node|bash) examples/${f.replace('.', '\\.')}`))
    expect(tested, `a test starting ${f}`).toMatch(new RegExp(`(run|start)\\('${f.replace('.', '\\.')}'`))
  }
  for (const [, f] of readme.matchAll(/(?:node|bash) examples\/([\w.-]+)/g)) expect(fs.existsSync(path.join(EXAMPLES, f!)), `${f} in README exists`).toBe(true)
})

test('demo.mjs (npm run demo): the tour ends as it should', async () => {
  const r = await run('demo.mjs')
  // The demo checks its own steps and exits 1 if one went otherwise; it names the recomputed line's break.
  expect(r.stdout).toMatch(/verify-log --json: PREV_MISMATCH at copy\/app\.2\.log:\d+/)
})

describe('pino', () => {
  test('pino-basic.mjs: rotation and retention through pino.transport, then verify-log', async () => {
    const r = await run('pino-basic.mjs')
    expect(r.stdout).toContain('rotated to app.2.log')
    expect(r.stdout).toContain('retention deleted app.1.log (recorded in the chain first)')
    expect(r.stdout).toContain('VALID: the chain is intact')
    const report = await coreVerify(path.join(out, 'pino-basic/app.log'))
    expect(report.ok).toBe(true)
    expect(report.retention.length).toBeGreaterThan(0)
    // The head the transport reported at close is the head of the chain on disk.
    expect(r.stdout).toContain(`head ${report.head!.hash} at record ${report.head!.count}`)
    // What retention kept is an unbroken tail of the 600 orders.
    const orders = json(userLines(chainFiles(path.join(out, 'pino-basic')))).map((l) => l.order as number)
    expect(orders.at(-1)).toBe(600)
    expect(orders).toEqual(orders.map((_, i) => 600 - orders.length + 1 + i))
  })

  test('pino-pretty.mjs: the chain takes info and up, the terminal shows warn and up, pretty', async () => {
    const r = await run('pino-pretty.mjs')
    expect(r.stdout).toMatch(/WARN \(\d+\): job 4 retried/)
    expect(r.stdout).toMatch(/ERROR \(\d+\): job 10 failed/)
    expect(r.stdout).not.toContain('job 1 done')
    expect(r.stdout).toContain('VALID: the chain is intact')
    expect(r.stdout).toContain('the chain holds 30 lines: 21 info, 6 warn, 3 error')
    const report = await coreVerify(path.join(out, 'pino-pretty/app.log'))
    expect(report.ok).toBe(true)
    const lines = json(userLines(chainFiles(path.join(out, 'pino-pretty'))))
    expect(lines.map((l) => l.job)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(pythonVerify(chainFiles(path.join(out, 'pino-pretty'))).ok).toBe(true)
  })

  test('pino-pipeline.mjs: the chain is the last stage after a redacting stage; every line is in it, redacted, and the head at close is the chain\'s', async () => {
    const r = await run('pino-pipeline.mjs')
    expect(r.stdout).toContain('VALID: the chain is intact')
    expect(r.stdout).toContain('the chain holds 40 lines; 0 of them hold a password or card number')
    const dir = path.join(out, 'pino-pipeline')
    const report = await coreVerify(path.join(dir, 'app.log'))
    expect(report.ok).toBe(true)
    expect(r.stdout).toContain(`head ${report.head!.hash} at record ${report.head!.count}`)
    expect(pythonVerify(chainFiles(dir)).ok).toBe(true)
    const lines = json(userLines(chainFiles(dir)))
    expect(lines.map((l) => `${l.user as string} ${l.msg as string}`)).toEqual(Array.from({ length: 20 }, (_, i) => [`u${i + 1} sign-in`, `u${i + 1} payment`]).flat())
    for (const l of lines) expect(l.password ?? l.card).toBe('[redacted]')
    expect(lines.filter((l) => l.msg === 'payment').map((l) => l.eur)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 5))
  })

  test('worker-threads.mjs: four threads, one chain, each thread in order', async () => {
    const r = await run('worker-threads.mjs')
    expect(r.stdout).toContain('VALID: the chain is intact')
    expect(r.stdout.match(/^thread \d+: 250 lines, in order$/gm)).toHaveLength(4)
    const dir = path.join(out, 'worker-threads')
    expect((await coreVerify(path.join(dir, 'app.log'))).ok).toBe(true)
    expect(pythonVerify(chainFiles(dir)).ok).toBe(true)
    const byThread = new Map<number, number[]>()
    for (const l of json(userLines(chainFiles(dir)))) byThread.set(l.thread as number, [...(byThread.get(l.thread as number) ?? []), l.seq as number])
    expect(byThread.size).toBe(4)
    for (const seqs of byThread.values()) expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
  })
})

test('winston.mjs: ChainlogTransport with size rotation, then verify-log', async () => {
  const r = await run('winston.mjs')
  expect(r.stdout).toContain('rotated app.1.log -> app.2.log')
  expect(r.stdout).toContain('VALID: the chain is intact')
  const report = await coreVerify(path.join(out, 'winston/app.log'))
  expect(report.ok).toBe(true)
  expect(r.stdout).toContain(`head ${report.head!.hash} at record ${report.head!.count}`)
  const lines = json(userLines(chainFiles(path.join(out, 'winston'))))
  expect(lines).toHaveLength(121)
  expect(lines.slice(0, 120).map((l) => l.invoice)).toEqual(Array.from({ length: 120 }, (_, i) => `INV-${1001 + i}`))
  expect(lines[120]).toMatchObject({ level: 'error', message: 'payment gateway timed out' })
  expect(lines[120]!.stack).toMatch(/^Error: payment gateway timed out\n {4}at /)
  expect(pythonVerify(chainFiles(path.join(out, 'winston'))).ok).toBe(true)
})

test('sealing.mjs: chainlog keygen, a sealed pino log, verify-log --verify-key; a cut tail is caught by the seals, not by the hashes', async () => {
  const r = await run('sealing.mjs')
  const dir = path.join(out, 'sealing')
  expect(r.stdout).toContain('New sealing keys in keys')
  expect(r.stdout).toContain('seal.key holds the seed of epoch 0')
  // 2-second epochs over about 5 seconds of logging: the seed moved on.
  expect(Number(r.stdout.match(/seal\.key now holds the seed of epoch (\d+)/)?.[1])).toBeGreaterThanOrEqual(1)
  // The intact log: covered by seals to its end, which is a closing seal.
  expect(r.stdout).toMatch(/\$ verify-log --verify-key keys\/verify\.key logs\/app\.log\nVALID: the chain is intact\n[^$]*unsealed +0 final records not sealed\n +end +closing seal: the writer shut down cleanly\n/)
  // The cut copy: valid hashes, unsealed records and no closing seal; SEAL_STALE as of later.
  expect(r.stdout).toMatch(/\$ verify-log --verify-key keys\/verify\.key cut\/app\.log\nVALID: the chain is intact\n[^$]*unsealed +[1-9]\d* final records not sealed\n +end +no closing seal/)
  expect(r.stdout).toMatch(/BROKEN: the seals stop at cut\/app\.\d+\.log:\d+, long before the end of the log \(SEAL_STALE\)/)
  expect(r.stdout).toContain('exit status without the key: 0, with the key and --as-of: 1')
  expect(fs.statSync(path.join(dir, 'keys/seal.key')).mode & 0o777).toBe(0o600)
  const verifyKey = loadVerifyKey(path.join(dir, 'keys/verify.key'))
  // The log itself, seen by core's verifier: 300 lines with seals, ending with a closing seal.
  const metas: { t: string; kind?: string }[] = []
  const report = await coreVerify(path.join(dir, 'logs/app.log'), { verifyKey, onMeta: (m) => metas.push(m as { t: string; kind?: string }) })
  expect(report.ok).toBe(true)
  expect(report.seals).toMatchObject({ closed: true, unsealed: 0, lastKind: 'close' })
  expect(json(userLines(chainFiles(path.join(dir, 'logs')))).map((l) => l.transfer)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
  expect(metas.filter((m) => m.t === 'seal').length).toBeGreaterThanOrEqual(3)
  expect(metas.at(-1)).toMatchObject({ t: 'seal', kind: 'close' })
  // The cut copy is a valid shorter chain, 40 records fewer; its seals show the cut.
  const cut = await coreVerify(path.join(dir, 'cut/app.log'))
  expect(cut.ok).toBe(true)
  expect(cut.head!.count).toBeLessThan(report.head!.count - 40)
  const sealed = await coreVerify(path.join(dir, 'cut/app.log'), { verifyKey, asOf: Date.now() + 60_000 })
  expect(sealed.seals).toMatchObject({ closed: false })
  expect(sealed.seals!.unsealed).toBeGreaterThan(0)
  expect(sealed.breaks.map((b) => b.reason)).toEqual(['SEAL_STALE'])
})

/** One HTTP request to 127.0.0.1; resolves with the status and body. */
function request(port: number, method: string, url: string, id: string, body?: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body && JSON.stringify(body)
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent: false, headers: { 'x-request-id': id, ...(data && { 'content-type': 'application/json' }) } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    req.end(data)
  })
}

test('http-service.mjs: real requests on 127.0.0.1, SIGTERM during a slow one, every request in the verified chain', async () => {
  const service = start('http-service.mjs', { PORT: '0', HOST: '127.0.0.1' })
  try {
    const port = Number((await service.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+),/))[1])
    const sent = [
      { id: 't-health', method: 'GET', url: '/health', status: 200 },
      { id: 't-get', method: 'GET', url: '/orders/1', status: 200 },
      { id: 't-post', method: 'POST', url: '/orders', status: 201, body: { item: 'tea', qty: 3 } },
      { id: 't-get-new', method: 'GET', url: '/orders/2', status: 200 },
      { id: 't-missing', method: 'GET', url: '/orders/99', status: 404 },
    ]
    for (const s of sent) expect((await request(port, s.method, s.url, s.id, s.body)).status).toBe(s.status)
    // A request still in flight when SIGTERM arrives is finished, and logged, before exit.
    const slow = request(port, 'GET', '/reports/daily', 't-slow')
    await new Promise((resolve) => setTimeout(resolve, 300))
    service.child.kill('SIGTERM')
    expect(await slow).toEqual({ status: 200, body: '{"orders":2}' })
    sent.push({ id: 't-slow', method: 'GET', url: '/reports/daily', status: 200 })

    const r = await service.done
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(143) // 128 + SIGTERM, from exitOnSignals
    expect(r.stdout).toContain('signal received: closing the server and flushing the log')
    expect(r.stdout).toContain('VALID: the chain is intact')

    // Only verified lines count: collect them from the verifier itself.
    const verified: string[] = []
    const report = await coreVerify(path.join(out, 'http-service/app.log'), { onLine: (l) => verified.push(l) })
    expect(report.ok).toBe(true)
    expect(report.partial).toBeNull()
    expect(pythonVerify(chainFiles(path.join(out, 'http-service'))).ok).toBe(true)
    const lines = json(verified)
    for (const s of sent) {
      const mine = lines.filter((l) => l.reqId === s.id)
      expect(mine.find((l) => l.msg === 'incoming request'), `${s.id} incoming`).toMatchObject({ req: { method: s.method, url: s.url } })
      expect(mine.find((l) => l.msg === 'request completed'), `${s.id} completed`).toMatchObject({ res: { statusCode: s.status } })
    }
    expect(lines.find((l) => l.reqId === 't-post' && l.msg === 'order created')).toMatchObject({ order: { id: 2, item: 'tea', qty: 3 } })
    expect(lines.find((l) => l.reqId === 't-slow' && l.msg === 'daily report built')).toMatchObject({ orders: 2 })
  } finally {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL')
  }
})

test('incident-review.sh: the tampered copy breaks at the changed line, the evidence and the live log verify', async () => {
  const r = await run('incident-review.sh')
  expect(r.stdout).toContain('BROKEN: the chain is broken at tampered/app.2.log:2 (HASH_MISMATCH)')
  expect(r.stdout).toContain('(exit status 1)')
  expect(r.stderr).toContain('refusing to extract from a broken chain') // chainlog's own stderr
  expect(r.stdout).toContain('output line 3 is that line, unverified')
  // pino-pretty output: the forged amount from the tampered copy, the original from the evidence.
  expect(r.stdout).toMatch(/INFO \(\d+\): payment sent \{"payment":3,"to":"acct-103","eur":9999\}/)
  expect(r.stdout).toMatch(/INFO \(\d+\): payment sent \{"payment":3,"to":"acct-103","eur":75\}/)
  expect(r.stdout.trimEnd()).toMatch(/\nVALID$/)
  const dir = path.join(out, 'incident-review')
  expect((await coreVerify(path.join(dir, 'live/app.log'))).ok).toBe(true)
  expect((await coreVerify(path.join(dir, 'evidence/app.log'))).ok).toBe(true)
  const tampered = await coreVerify(path.join(dir, 'tampered/app.log'))
  expect(tampered.ok).toBe(false)
  expect(tampered.breaks[0]).toMatchObject({ file: path.join(dir, 'tampered/app.2.log'), line: 2, reason: 'HASH_MISMATCH' })
})
