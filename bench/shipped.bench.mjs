// verify-log --shipped on lines pulled back from a central store (#15): a
// chain of RECORDS records (~200 bytes each) written by the core writer with
// rotation, then shuffled with 1% of the lines duplicated, as an export of a
// store gives them back. Compared with in-order `verify-log --jobs 1` on the
// writer's own files. Targets: --shipped at no less than 0.5x the in-order
// speed, and a peak RSS under 100 MB + 64 bytes per record. `--shipped` checks records on two threads where
// there are two cores; `--shipped --jobs 1`, on one, is printed beside it.
//
// The shuffle is exact and needs little memory: each line goes to one of 64
// bucket files at random (a duplicate to another one), then each bucket is
// shuffled in memory and appended. Everything lives under bench/out/shipped
// and is reused while its stamp matches.
// Run alone: `nice node bench/shipped.bench.mjs [--records 5000000] [--rounds 1]`; or import run().
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median } from './lib.mjs'
import { buildLog } from './verify.bench.mjs'

const here = fileURLToPath(import.meta.url)
const ROOT = path.resolve(path.dirname(here), '..')
const VERIFY_LOG = path.join(ROOT, 'packages/cli/bin/verify-log.js')
const OUT = path.join(ROOT, 'bench/out/shipped')
const BUCKETS = 64
const DUPLICATES = 0.01
/** Bytes of one record of the verify bench's lines (prev, line, hash, separators, LF). */
const RECORD_BYTES = 200

/** A seeded generator (mulberry32), so that every build shuffles the same way. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The shuffled export with 1% duplicates of the log's files; returns its path and line count. */
function buildShuffled(stamp, log) {
  const file = path.join(OUT, 'shuffled.log')
  const stampFile = path.join(OUT, 'shuffled.json')
  try {
    const s = JSON.parse(fs.readFileSync(stampFile, 'utf8'))
    if (s.source === stamp.totalBytes && fs.existsSync(file)) return s
  } catch {
    // build it
  }
  log(`shuffling ${stamp.lines.toLocaleString('en-US')} records with ${DUPLICATES * 100}% duplicates…`)
  const rnd = random(15)
  const dir = path.join(OUT, 'buckets')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const fds = Array.from({ length: BUCKETS }, (_, k) => fs.openSync(path.join(dir, String(k)), 'w'))
  const pending = Array.from({ length: BUCKETS }, () => [])
  const put = (k, line) => {
    pending[k].push(line)
    if (pending[k].length >= 4096) fs.writeSync(fds[k], pending[k].splice(0).join(''))
  }
  let duplicates = 0
  for (const f of stamp.files) {
    const text = fs.readFileSync(f, 'latin1')
    let s = 0
    for (let e = text.indexOf('\n'); e !== -1; e = text.indexOf('\n', s)) {
      const line = text.slice(s, e + 1)
      put(Math.floor(rnd() * BUCKETS), line)
      if (rnd() < DUPLICATES) {
        put(Math.floor(rnd() * BUCKETS), line)
        duplicates++
      }
      s = e + 1
    }
  }
  for (let k = 0; k < BUCKETS; k++) {
    fs.writeSync(fds[k], pending[k].join(''))
    fs.closeSync(fds[k])
  }
  const out = fs.openSync(file, 'w')
  let lines = 0
  for (let k = 0; k < BUCKETS; k++) {
    const bucket = fs.readFileSync(path.join(dir, String(k)), 'latin1').split('\n').slice(0, -1)
    for (let i = bucket.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[bucket[i], bucket[j]] = [bucket[j], bucket[i]]
    }
    lines += bucket.length
    fs.writeSync(out, bucket.join('\n') + '\n', null, 'latin1')
  }
  fs.closeSync(out)
  fs.rmSync(dir, { recursive: true, force: true })
  const s = { source: stamp.totalBytes, lines, duplicates, bytes: fs.statSync(file).size }
  fs.writeFileSync(stampFile, JSON.stringify(s))
  return s
}

const hasGnuTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0

/** Wall seconds, peak RSS (MB) and CPU seconds (user + system, from GNU time: on a shared machine the wall time carries other processes' load) of one command; its exit status must be `status`. */
function measure(args, status = 0) {
  const argv = hasGnuTime ? ['/usr/bin/time', ['-f', '@@%M %U %S', process.execPath, ...args]] : [process.execPath, args]
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (r.status !== status) throw new Error(`verify-log ${args.slice(1).join(' ')} exited with ${r.status}: ${r.stderr}`)
  const m = /@@(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '')
  return { seconds, rssMB: m ? Number(m[1]) / 1024 : null, cpu: m ? Number(m[2]) + Number(m[3]) : null, stdout: r.stdout }
}

/** Builds (or reuses) the log and its shuffled export, and times both verifications `rounds` times, interleaved. */
export async function run({ records = 5_000_000, rounds = 1, log = console.log } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'packages/cli/dist/verify-log.js'))) throw new Error('build first: npm run build')
  const stamp = await buildLog({ dir: path.join(OUT, 'log'), bytes: records * RECORD_BYTES, log })
  const shuffled = buildShuffled(stamp, log)
  // Warm the page cache with both inputs: a run that reads from the disk measures the disk.
  measure([VERIFY_LOG, '--quiet', '--jobs', '1', path.join(OUT, 'log')])
  measure([VERIFY_LOG, '--shipped', '--quiet', '--jobs', '1', path.join(OUT, 'shuffled.log')])
  const inOrder = []
  const ship = []
  const shipOne = []
  for (let r = 0; r < rounds; r++) {
    inOrder.push(measure([VERIFY_LOG, '--quiet', '--jobs', '1', path.join(OUT, 'log')]))
    ship.push(measure([VERIFY_LOG, '--shipped', '--json', path.join(OUT, 'shuffled.log')]))
    shipOne.push(measure([VERIFY_LOG, '--shipped', '--json', '--jobs', '1', path.join(OUT, 'shuffled.log')]))
  }
  for (const s of [...ship, ...shipOne]) {
    const report = JSON.parse(s.stdout)
    if (report.status !== 'VALID' || report.records !== stamp.lines || report.duplicates !== shuffled.duplicates) throw new Error(`unexpected report: ${JSON.stringify(report).slice(0, 500)}`)
  }
  const row = (name, runs, lines) => ({
    name,
    seconds: median(runs.map((x) => x.seconds)),
    recordsPerSec: lines / median(runs.map((x) => x.seconds)),
    cpuSeconds: runs.every((x) => x.cpu !== null) ? median(runs.map((x) => x.cpu)) : null,
    peakRssMB: runs.every((x) => x.rssMB !== null) ? Math.max(...runs.map((x) => x.rssMB)) : null,
  })
  const a = row('verify-log --jobs 1 (in order)', inOrder, stamp.lines)
  const b = row('verify-log --shipped (shuffled, 1% dup)', ship, shuffled.lines)
  const c = row('verify-log --shipped --jobs 1', shipOne, shuffled.lines)
  for (const x of [b, c]) {
    x.ratio = a.seconds / x.seconds
    x.cpuRatio = a.cpuSeconds !== null && x.cpuSeconds !== null ? a.cpuSeconds / x.cpuSeconds : null
    x.rssLimitMB = 100 + (64 * stamp.lines) / 1e6
  }
  return { rows: [a, b, c], records: stamp.lines, lines: shuffled.lines, duplicates: shuffled.duplicates, bytes: shuffled.bytes, rounds }
}

export function formatTable(result) {
  const [, b, c] = result.rows
  const out = [
    `shipped: ${result.records.toLocaleString('en-US')} records, shuffled with ${result.duplicates.toLocaleString('en-US')} duplicates (${result.lines.toLocaleString('en-US')} lines, ${(result.bytes / 1e9).toFixed(2)} GB), median of ${result.rounds}`,
    `${'command'.padEnd(42)}${'seconds'.padStart(9)}${'records/s'.padStart(13)}${'cpu s'.padStart(8)}${'peak RSS'.padStart(10)}`,
  ]
  for (const r of result.rows) out.push(`${r.name.padEnd(42)}${r.seconds.toFixed(2).padStart(9)}${Math.round(r.recordsPerSec).toLocaleString('en-US').padStart(13)}${(r.cpuSeconds === null ? '?' : r.cpuSeconds.toFixed(2)).padStart(8)}${(r.peakRssMB === null ? '?' : `${r.peakRssMB.toFixed(0)} MB`).padStart(10)}`)
  const ok = (x) => (x ? 'met' : 'NOT met')
  out.push(`--shipped runs at ${b.ratio.toFixed(2)}x the in-order speed on wall time (target >= 0.5x: ${ok(b.ratio >= 0.5)}), ${b.cpuRatio?.toFixed(2) ?? '?'}x on CPU time; peak RSS ${b.peakRssMB?.toFixed(0) ?? '?'} MB, limit 100 MB + 64 B/record = ${b.rssLimitMB.toFixed(0)} MB: ${ok(b.peakRssMB !== null && b.peakRssMB < b.rssLimitMB)}`)
  out.push(`--shipped --jobs 1 (one thread checks records): ${c.ratio.toFixed(2)}x on wall time, ${c.cpuRatio?.toFixed(2) ?? '?'}x on CPU time, peak RSS ${c.peakRssMB?.toFixed(0) ?? '?'} MB`)
  return out.join('\n')
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '5000000' }, rounds: { type: 'string', default: '1' } } })
  console.log(formatTable(await run({ records: Number(values.records), rounds: Number(values.rounds) })))
}
