/**
 * `verify-log --shipped` (#15 part 2), run as a user runs it: the built CLI
 * on records written by the core writer, wrapped the way each engine or store
 * wraps them, and attacked or damaged the way shippers and attackers do.
 * Each case asserts the exit status, the reason and the exact file:line.
 *
 * The envelopes that cannot run here are generated following each system's
 * own document, named beside each generator.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { json, linesOf, pinoLine, suiteDir, tmpDir, verifyLog, writeChain } from './helpers'

interface Record_ {
  file: string
  line: number
  position: number | null
  hash: string
}
interface Problem {
  reason: string
  message: string
  file: string
  line: number
  after?: Record_ | null
  before?: Record_ | null
  missing?: number | null
  records?: Record_[]
}
interface Report {
  ok: boolean
  status: string
  lines: number
  records: number
  duplicates: number
  skipped: number
  envelopes: { [k: string]: number }
  chains: Array<{ chain: string | null; status: string; records: number; duplicates: number; head: { hash: string; count: number | null } | null; firstTime: string | null; lastTime: string | null; runs: unknown[]; problems: Problem[] }>
}

/** A seeded shuffle, so that a failure can be replayed. */
function shuffle<T>(xs: T[], seed = 7): T[] {
  const out = [...xs]
  let s = seed
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex')
const LINES = Array.from({ length: 400 }, (_, i) => pinoLine(i))

let chain: string[] // every record of the chain, in chain order
let head: { hash: string; count: number }

let suite: string
beforeAll(async () => {
  suite = suiteDir()
  const dir = suite
  const files = await writeChain(dir, LINES, { size: 8000 })
  chain = files.flatMap((f) => linesOf(f).map((b) => b.toString()))
  head = { hash: chain.at(-1)!.slice(-64), count: chain.length }
  expect(files.length).toBeGreaterThanOrEqual(8)
})
afterAll(() => fs.rmSync(suite, { recursive: true, force: true }))

function write(name: string, lines: string[]): string {
  const file = path.join(tmpDir(), name)
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

async function shipped(args: string[], input?: string) {
  const r = await verifyLog(['--shipped', '--json', ...args], input === undefined ? {} : { input })
  const text = await verifyLog(['--shipped', ...args], input === undefined ? {} : { input })
  expect(text.status).toBe(r.status)
  return { status: r.status, report: json<Report>(r), text: text.stdout, stderr: r.stderr }
}

describe('order, duplicates and chains', () => {
  test('shuffled records are one VALID chain, with the head of the writer', async () => {
    const file = write('shuffled.log', shuffle(chain))
    const { status, report, text } = await shipped([file])
    expect(status).toBe(0)
    expect(report.status).toBe('VALID')
    expect(report.chains).toHaveLength(1)
    expect(report.chains[0]!.head).toEqual(head)
    expect(report.chains[0]!.records).toBe(chain.length)
    expect(report.chains[0]!.firstTime).not.toBeNull()
    expect(report.chains[0]!.lastTime).toBe(new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + 399_000).toISOString())
    expect(text.split('\n')[0]).toBe('VALID: every chain is complete from its first header to its last record')
  })

  test('--jobs 1 checks every record in one thread, with the same report as two', async () => {
    // Every record twice, as a shipper that delivered everything again: more than two halves of 64 KiB.
    const file = write('shuffled.log', shuffle([...chain, ...chain]))
    expect(fs.statSync(file).size).toBeGreaterThan(2 * 64 * 1024)
    const one = await verifyLog(['--shipped', '--json', '--jobs', '1', file])
    const two = await verifyLog(['--shipped', '--json', '--jobs', '2', file])
    expect(one.status).toBe(0)
    expect(two.stdout).toBe(one.stdout)
    expect(json<{ records: number; duplicates: number }>(one)).toMatchObject({ records: chain.length, duplicates: chain.length })
  })

  test('duplicates are collapsed and counted, not a break', async () => {
    const dups = [chain[5]!, chain[5]!, chain[100]!, chain.at(-1)!]
    const file = write('dups.log', shuffle([...chain, ...dups]))
    const { status, report } = await shipped([file])
    expect(status).toBe(0)
    expect(report.duplicates).toBe(4)
    expect(report.chains[0]!.duplicates).toBe(4)
    expect(report.chains[0]!.records).toBe(chain.length)
  })

  test('two chains interleaved from two inputs, and stdin', async () => {
    const dir = tmpDir()
    const other = (await writeChain(dir, LINES.slice(0, 50), { size: 4000 })).flatMap((f) => linesOf(f).map((b) => b.toString()))
    const mixed = shuffle([...chain, ...other])
    const a = write('a.log', mixed.slice(0, 200))
    const b = write('b.log', mixed.slice(200))
    const { status, report } = await shipped([a, b])
    expect(status).toBe(0)
    expect(report.chains.map((c) => [c.status, c.records]).sort()).toEqual([['VALID', chain.length], ['VALID', other.length]].sort())
    const piped = await shipped(['-'], mixed.join('\n') + '\n')
    expect(piped.status).toBe(0)
    expect(piped.report.chains).toHaveLength(2)
  })
})

describe('what shippers and attackers do, each with its reason', () => {
  test('a record of a blake3 chain recomputed under sha256: HASH_MISMATCH at its line, beside a sha256 chain that stays VALID', async () => {
    // Two algorithms in one input: each record is judged against its own chain's algorithm.
    const dir = tmpDir()
    const b3 = (await writeChain(dir, LINES.slice(0, 30), { algorithm: 'blake3' })).flatMap((f) => linesOf(f).map((b) => b.toString()))
    const k = b3.length - 1
    expect(b3[k]![65]).not.toBe('\\') // a user record, the chain's last: nothing links to it
    const body = b3[k]!.slice(0, -65)
    const forged = `${body}|${sha256(body)}`
    const file = write('algorithms.log', shuffle([...chain, ...b3.slice(0, k), forged]))
    const line = fs.readFileSync(file, 'utf8').split('\n').indexOf(forged) + 1
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.chains.map((c) => [c.status, c.records]).sort()).toEqual([['BROKEN', b3.length], ['VALID', chain.length]].sort())
    const problems = report.chains.find((c) => c.status === 'BROKEN')!.problems
    expect(problems.map((p) => [p.reason, p.line])).toEqual([['HASH_MISMATCH', line]])
    expect(problems[0]!.message).toContain('verifies only under sha256')
  })

  test('dropped records: GAP after and before the right records, with how many are missing', async () => {
    // Positions 120-122 are lost; the file's next header tells how many.
    const file = write('dropped.log', shuffle(chain.filter((_, i) => i < 120 || i > 122)))
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('INCOMPLETE')
    const [gap, ...rest] = report.chains[0]!.problems
    expect(rest).toEqual([])
    expect(gap!.reason).toBe('GAP')
    expect(gap!.missing).toBe(3)
    expect(gap!.after).toMatchObject({ hash: chain[119]!.slice(-64), line: lines.indexOf(chain[119]!) + 1, position: 119 })
    expect(gap!.before).toMatchObject({ hash: chain[123]!.slice(-64), line: lines.indexOf(chain[123]!) + 1, position: 123 })
    expect(`${gap!.file}:${gap!.line}`).toBe(`${file}:${lines.indexOf(chain[123]!) + 1}`)
  })

  test("the chain's start missing: START_MISSING with the count from the first header present", async () => {
    const firstHeader = chain.findIndex((l, i) => i > 0 && l.slice(65).startsWith('\\m{"t":"header"'))
    const file = write('tail.log', shuffle(chain.slice(firstHeader)))
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.chains[0]!.problems.map((p) => [p.reason, p.missing])).toEqual([['START_MISSING', firstHeader]])
  })

  test('a fork: two records with the same prev is FORK, naming both', async () => {
    const prev = chain[200]!.slice(-64)
    const stored = pinoLine(9999)
    const forged = `${prev}|${stored}|${sha256(`${prev}|${stored}`)}`
    const file = write('fork.log', shuffle([...chain, forged]))
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    const [fork] = report.chains[0]!.problems
    expect(fork!.reason).toBe('FORK')
    expect(`${fork!.file}:${fork!.line}`).toBe(`${file}:${lines.indexOf(forged) + 1}`)
    expect(fork!.after!.hash).toBe(prev)
    expect(fork!.records!.map((r) => r.hash).sort()).toEqual([chain[201]!.slice(-64), forged.slice(-64)].sort())
  })

  test('a record cut at a line limit is CUT, not tampering', async () => {
    const cut = chain[150]!.slice(0, 100)
    const lines = shuffle([...chain.slice(0, 150), cut, ...chain.slice(151)])
    const file = write('cut.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('INCOMPLETE')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line} ${p.missing}`)).toEqual([`CUT ${file}:${lines.indexOf(cut) + 1} 1`])
  })

  test('two records cut, and the records between them, logged in one millisecond, hold no header: each cut is CUT, in its place, and nothing is a GAP', async () => {
    // rsyslog's imfile tails every file of the log at once, so the central file interleaves them; when
    // the records between two cuts carry no header or seal, only the cuts and the positions around them
    // tell where they go (their times are all equal here).
    const dir = tmpDir()
    const files = await writeChain(dir, Array.from({ length: 200 }, (_, i) => pinoLine(i, Date.UTC(2026, 10, 22)).replace(/"time":\d+/, `"time":${Date.UTC(2026, 10, 22)}`)), { size: 12000 })
    const records = files.flatMap((f) => linesOf(f).map((b) => b.toString()))
    const headers = records.flatMap((r, i) => (r.slice(65).startsWith('\\m{"t":"header"') ? [i] : []))
    expect(headers.length).toBeGreaterThanOrEqual(3)
    const [a, b] = [headers[1]! + 5, headers[2]! - 3] // no header between the two cut records
    const cutA = records[a]!.slice(0, 120)
    const cutB = records[b]!.slice(0, 120)
    // The later files arrive first, then the records between the cuts.
    const lines = [...records.slice(0, a), cutA, ...records.slice(b + 1), ...records.slice(a + 1, b), cutB]
    const file = write('cuts-interleaved.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('INCOMPLETE')
    expect(report.chains).toHaveLength(1)
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line}`)).toEqual([`CUT ${file}:${lines.indexOf(cutA) + 1}`, `CUT ${file}:${lines.indexOf(cutB) + 1}`])
  })

  test('an edited record is HASH_MISMATCH at its line', async () => {
    const edited = chain[77]!.replace('"reqId":', '"reqIx":')
    const lines = shuffle([...chain.slice(0, 77), edited, ...chain.slice(78)])
    const file = write('edited.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line}`)).toEqual([`HASH_MISMATCH ${file}:${lines.indexOf(edited) + 1}`])
  })

  test('an edited copy beside the real record is still named', async () => {
    const edited = chain[77]!.replace('"reqId":', '"reqIx":')
    const lines = shuffle([...chain, edited])
    const file = write('copy.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.line}`)).toEqual([`HASH_MISMATCH ${lines.indexOf(edited) + 1}`])
  })

  test('a record rewritten with its hash recomputed: PREV_MISMATCH where the headers show nothing missing', async () => {
    // Record 130 rewritten and re-hashed; 131 no longer links to it, and the next header's seq shows no gap.
    const r = chain[130]!
    const stored = r.slice(65, -65).replace('"reqId":', '"reqIx":')
    const forged = `${r.slice(0, 64)}|${stored}|${sha256(`${r.slice(0, 64)}|${stored}`)}`
    const lines = shuffle([...chain.slice(0, 130), forged, ...chain.slice(131)])
    const file = write('rewritten.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.line} ${p.missing}`)).toEqual([`PREV_MISMATCH ${lines.indexOf(chain[131]!) + 1} 0`])
  })
})

// Each envelope as its engine or store writes it, around the same shuffled chain, with other programs' lines between.
const T = '2026-12-01T10:00:00.123456789Z'
const envelopes: Array<{ name: string; doc: string; wrap: (record: string, i: number) => string[]; noise: string; field?: string }> = [
  {
    name: 'loki',
    // Grafana Loki, "LogCLI" (docs/sources/query/logcli): `logcli query --output=jsonl` prints one JSON object per entry with labels, line and timestamp.
    doc: 'https://grafana.com/docs/loki/latest/query/logcli/',
    wrap: (r) => [JSON.stringify({ labels: { app: 'api', host: 'vm' }, line: r, timestamp: T })],
    noise: JSON.stringify({ labels: { app: 'nginx' }, line: 'GET / 200', timestamp: T }),
  },
  {
    name: 'elasticsearch',
    // Elasticsearch Guide, "Search API" response body: hits.hits[] with _index, _id, _score and _source (one hit per line, as elasticdump and `jq -c '.hits.hits[]'` write them).
    doc: 'https://www.elastic.co/guide/en/elasticsearch/reference/current/search-search.html',
    wrap: (r, i) => [JSON.stringify({ _index: 'logs-2026.12.01', _id: `id${i}`, _score: 1, _source: i % 2 ? { '@timestamp': T, message: r } : { '@timestamp': T, log: r } })],
    noise: JSON.stringify({ _index: 'logs-2026.12.01', _id: 'x', _score: 1, _source: { '@timestamp': T, message: 'another service' } }),
  },
  {
    name: 'json',
    // Vector, "file" source output (message, file, host, source_type, timestamp) through the json codec; Fluent Bit, "tail" input (key `log`) through out_file format json_lines.
    doc: 'https://vector.dev/docs/reference/configuration/sources/file/ ; https://docs.fluentbit.io/manual/pipeline/inputs/tail',
    wrap: (r, i) => [i % 2 ? JSON.stringify({ file: '/var/log/app.1.log', host: 'vm', message: r, source_type: 'file', timestamp: T }) : JSON.stringify({ date: 1796119200.123, log: r })],
    noise: JSON.stringify({ host: 'vm', message: 'cron[77]: started', source_type: 'file', timestamp: T }),
  },
  {
    name: 'docker',
    // Moby json-file logging driver (daemon/logger/jsonfilelog): {"log","stream","time"}; a line over 16 KiB is split into entries, only the last ending in \n.
    doc: 'https://docs.docker.com/engine/logging/drivers/json-file/',
    wrap: (r) => {
      const out: string[] = []
      for (let at = 0; at < r.length; at += 16 * 1024) out.push(JSON.stringify({ log: r.slice(at, at + 16 * 1024) + (at + 16 * 1024 >= r.length ? '\n' : ''), stream: 'stdout', time: T }))
      return out
    },
    noise: JSON.stringify({ log: 'npm warn deprecated\n', stream: 'stderr', time: T }),
  },
  {
    name: 'cri',
    // Kubernetes CRI container log format (kubelet-cri-logging design, pkg/kubelet/kuberuntime/logs): `<RFC3339Nano> <stream> <P|F> <text>`, P for a partial line.
    doc: 'https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md',
    wrap: (r) => {
      const out: string[] = []
      for (let at = 0; at < r.length; at += 16 * 1024) out.push(`${T} stdout ${at + 16 * 1024 >= r.length ? 'F' : 'P'} ${r.slice(at, at + 16 * 1024)}`)
      return out
    },
    noise: `${T} stderr F warning: something else`,
  },
  {
    name: 'syslog',
    // RFC 5424 §6 (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`) and RFC 3164 §4.1 (`<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`).
    doc: 'https://www.rfc-editor.org/rfc/rfc5424 ; https://www.rfc-editor.org/rfc/rfc3164',
    wrap: (r, i) => [i % 2 ? `<14>1 2026-12-01T10:00:00.123Z vm app 4242 - - ${r}` : `<14>Dec  1 10:00:00 vm app[4242]: ${r}`],
    noise: '<30>Dec  1 10:00:00 vm systemd[1]: Started Session 4.',
  },
  {
    name: 'field',
    // A store's own layout, chosen with --field.
    doc: '--field kubernetes.log',
    wrap: (r) => [JSON.stringify({ kubernetes: { pod: 'api-0', log: r } })],
    noise: JSON.stringify({ kubernetes: { pod: 'api-0' } }),
    field: 'kubernetes.log',
  },
]

describe('envelopes, each following its document', () => {
  for (const e of envelopes) {
    test(`${e.name} (${e.doc})`, async () => {
      // One record over 16 KiB, so that the engines that split long lines split this one.
      const dir = tmpDir()
      const long = (await writeChain(dir, [...LINES.slice(0, 30), JSON.stringify({ level: 30, msg: 'x'.repeat(40_000) }), ...LINES.slice(30, 60)], { size: 8000 })).flatMap((f) => linesOf(f).map((b) => b.toString()))
      const records = shuffle(long)
      const lines = records.flatMap((r, i) => (i % 10 === 0 ? [e.noise, ...e.wrap(r, i)] : e.wrap(r, i)))
      const file = write(`${e.name}.jsonl`, lines)
      const { status, report } = await shipped([...(e.field ? ['--field', e.field] : []), file])
      expect(status, JSON.stringify(report.chains[0]?.problems)).toBe(0)
      expect(report.status).toBe('VALID')
      expect(report.chains[0]!.records).toBe(long.length)
      expect(report.chains[0]!.head!.hash).toBe(long.at(-1)!.slice(-64))
      expect(report.skipped).toBe(Math.ceil(records.length / 10))
    })
  }

  test('a Docker entry whose last piece never came is a CUT at its first piece', async () => {
    const long = chain.slice(0, 3).concat(`${chain[2]!.slice(-64)}|${'y'.repeat(20_000)}|${sha256(`${chain[2]!.slice(-64)}|${'y'.repeat(20_000)}`)}`)
    const last = long[3]!
    const lines = [...long.slice(0, 3).map((r) => JSON.stringify({ log: r + '\n', stream: 'stdout', time: T })), JSON.stringify({ log: last.slice(0, 16384), stream: 'stdout', time: T })]
    const file = write('docker-cut.log', lines)
    const { status, report } = await shipped([file])
    expect(status).toBe(1)
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.line}`)).toEqual(['CUT 4'])
  })
})

describe('input that cannot be read: exit 2', () => {
  test('a missing path, no record at all, a keyed chain without its key, and usage errors', async () => {
    const missing = await verifyLog(['--shipped', path.join(tmpDir(), 'nope.log')])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/^verify-log: cannot read .*nope\.log: no such file or directory\n$/)
    const none = await verifyLog(['--shipped', write('none.log', ['hello', 'world'])])
    expect(none.status).toBe(2)
    expect(none.stderr).toContain('no chainlog record in 2 lines')
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'k'), 'k'.repeat(64))
    const keyed = (await writeChain(dir, LINES.slice(0, 20), { algorithm: 'hmac-sha256', keyFile: path.join(dir, 'k') })).flatMap((f) => linesOf(f).map((b) => b.toString()))
    const file = write('keyed.log', shuffle(keyed))
    const noKey = await verifyLog(['--shipped', '--json', file])
    expect(noKey.status).toBe(2)
    expect(json<{ error: { code: string } }>(noKey).error.code).toBe('KEY_REQUIRED')
    const withKey = await verifyLog(['--shipped', '--key', path.join(dir, 'k'), file])
    expect(withKey.status).toBe(0)
    expect((await verifyLog(['--field', 'message', file])).status).toBe(2)
    expect((await verifyLog(['--shipped', '--expect-count', '2', file])).stderr).toBe('verify-log: --expect-count does not apply to --shipped\n')
    expect((await verifyLog(['--shipped', '--jobs', '0', file])).status).toBe(2)
    expect((await verifyLog(['--shipped', '--field', 'a..b', file])).status).toBe(2)
  })
})

describe('a head kept elsewhere: --checkpoint and --expect-head', () => {
  interface Checked extends Report {
    checkpoint: { hash: string; count: number | null; chain: string | null; reached: boolean; foundAt: number | null; missing: number | null; reason: string | null; message: string | null }
    chains: Array<Report['chains'][number] & { reachesHead?: boolean }>
  }
  const checkpointFile = () => {
    const file = path.join(tmpDir(), 'head.json')
    fs.writeFileSync(file, JSON.stringify(head) + '\n') // as `chainlog head <path> > head.json` prints it
    return file
  }
  const checked = async (args: string[]) => {
    const r = await shipped(args)
    return { ...r, report: r.report as Checked }
  }

  test('a complete chain reaches the head: VALID, exit 0, found at the checkpoint count', async () => {
    const { status, report, text } = await checked(['--checkpoint', checkpointFile(), write('all.log', shuffle(chain))])
    expect(status).toBe(0)
    expect(report.status).toBe('VALID')
    expect(report.checkpoint).toMatchObject({ hash: head.hash, count: head.count, reached: true, foundAt: head.count, missing: null, reason: null })
    expect(report.chains[0]!.reachesHead).toBe(true)
    expect(text).toContain('; reaches the expected head')
  })

  test("records lost at the chain's end: HEAD_MISSING after its last record, with how many, exit 1", async () => {
    // Without the checkpoint nothing in the input shows the last 7 records gone.
    const file = write('no-end.log', shuffle(chain.slice(0, -7)))
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    expect((await shipped([file])).status).toBe(0)
    const { status, report, text } = await checked(['--checkpoint', checkpointFile(), file])
    expect(status).toBe(1)
    expect(report.status).toBe('INCOMPLETE')
    const last = chain.at(-8)!
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line} ${p.missing}`)).toEqual([`HEAD_MISSING ${file}:${lines.indexOf(last) + 1} 7`])
    expect(report.chains[0]!.problems[0]!.message).toBe(`the chain ends at record ${head.count - 7}, before the expected head at record ${head.count}: its last 7 records are not in the input`)
    expect(report.chains[0]!.problems[0]!.after).toMatchObject({ hash: last.slice(-64), position: head.count - 8 })
    expect(report.checkpoint).toMatchObject({ reached: false, missing: 7, reason: 'HEAD_MISSING' })
    expect(report.chains[0]!.reachesHead).toBe(false)
    expect(text).toContain('does NOT reach the expected head')
    // --expect-head gives no count: the loss is found, not counted.
    const bare = await checked(['--expect-head', head.hash, file])
    expect(bare.status).toBe(1)
    expect(bare.report.chains[0]!.problems.map((p) => `${p.reason} ${p.line} ${p.missing}`)).toEqual([`HEAD_MISSING ${lines.indexOf(last) + 1} null`])
  })

  test('the last record rewritten with its hash recomputed: HEAD_REWRITTEN at its line, BROKEN', async () => {
    const r = chain.at(-1)!
    const stored = r.slice(65, -65).replace('"reqId":', '"reqIx":')
    expect(stored).not.toBe(r.slice(65, -65))
    const forged = `${r.slice(0, 64)}|${stored}|${sha256(`${r.slice(0, 64)}|${stored}`)}`
    const file = write('forged-end.log', shuffle([...chain.slice(0, -1), forged]))
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    expect((await shipped([file])).status).toBe(0)
    const { status, report } = await checked(['--checkpoint', checkpointFile(), file])
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.file}:${p.line}`)).toEqual([`HEAD_REWRITTEN ${file}:${lines.indexOf(forged) + 1}`])
    expect(report.checkpoint).toMatchObject({ reached: false, reason: 'HEAD_REWRITTEN' })
  })

  test('the head found at another count: HEAD_ELSEWHERE', async () => {
    const file = path.join(tmpDir(), 'later.json')
    fs.writeFileSync(file, JSON.stringify({ hash: head.hash, count: head.count + 5 }))
    const input = write('all.log', shuffle(chain))
    const lines = fs.readFileSync(input, 'utf8').split('\n')
    const { status, report } = await checked(['--checkpoint', file, input])
    expect(status).toBe(1)
    expect(report.status).toBe('BROKEN')
    expect(report.chains[0]!.problems.map((p) => `${p.reason} ${p.line}`)).toEqual([`HEAD_ELSEWHERE ${lines.indexOf(chain.at(-1)!) + 1}`])
    expect(report.checkpoint).toMatchObject({ reached: false, foundAt: head.count, reason: 'HEAD_ELSEWHERE' })
  })

  test('two chains: the one holding the head is judged; with its end lost, the report says no chain holds it', async () => {
    const other = (await writeChain(tmpDir(), LINES.slice(0, 50), { size: 4000 })).flatMap((f) => linesOf(f).map((b) => b.toString()))
    const both = await checked(['--checkpoint', checkpointFile(), write('two.log', shuffle([...chain, ...other]))])
    expect(both.status).toBe(0)
    expect(both.report.chains.map((c) => [c.records, c.reachesHead ?? 'not judged']).sort()).toEqual([[chain.length, true], [other.length, 'not judged']].sort())
    const lost = await checked(['--checkpoint', checkpointFile(), write('two-lost.log', shuffle([...chain.slice(0, -3), ...other]))])
    expect(lost.status).toBe(1)
    expect(lost.report.status).toBe('INCOMPLETE')
    expect(lost.report.chains.map((c) => c.status)).toEqual(['VALID', 'VALID'])
    expect(lost.report.checkpoint).toMatchObject({ chain: null, reached: false, reason: 'HEAD_MISSING', missing: null })
    expect(lost.text).toContain('NOT reached: no chain in the input holds the expected head hash')
  })

  test('usage errors: exit 2', async () => {
    const file = write('all.log', shuffle(chain))
    const bad = await verifyLog(['--shipped', '--expect-head', 'abc', file])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toBe('verify-log: --expect-head must be a head hash: 64 lowercase hex characters; got "abc"\n')
    expect((await verifyLog(['--shipped', '--expect-count', '5', file])).stderr).toBe('verify-log: --expect-count does not apply to --shipped\n')
    const none = await verifyLog(['--shipped', '--checkpoint', path.join(tmpDir(), 'nope.json'), file])
    expect(none.status).toBe(2)
    expect(none.stderr).toMatch(/^verify-log: cannot read checkpoint .*nope\.json: no such file\n$/)
  })
})
