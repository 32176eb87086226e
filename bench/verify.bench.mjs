// verify-log on a log of at least 1 GiB written by the core writer (~200-byte
// records, rotated files), next to sha256sum and a plain read (cat > /dev/null)
// of the same files, and one sha256sum per core in parallel, in the same run. Each command runs ROUNDS times after a
// warm-up read (so every row reads from the page cache); the table shows the
// median wall time as records/s and MB/s, the best run's records/s (on a shared
// machine the median carries other processes' load), the peak RSS of the
// process, and the ratios (of medians) to sha256sum and to cat. The log is built once under bench/out/verify
// and reused while its stamp matches.
// Run alone: `node bench/verify.bench.mjs`; or import run().
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashPaths, median, pairedRatio } from './lib.mjs'

const require = createRequire(import.meta.url)
const here = fileURLToPath(import.meta.url)
const ROOT = path.resolve(path.dirname(here), '..')
const VERIFY_LOG = path.join(ROOT, 'packages/cli/bin/verify-log.js')
export const OUT = path.join(ROOT, 'bench/out/verify')

export const TARGET_BYTES = 1024 ** 3
const ROUNDS = 5
/** Stored line of ~69 bytes: with prev, hash and separators a record is ~200 bytes. */
const line = (i) => `{"level":30,"time":${1795000000000 + i},"pid":4242,"req":${i % 1000000},"msg":"ok"}`

/** Builds the log (or reuses it): files in chain order, total bytes, physical lines. */
export async function buildLog({ dir = OUT, bytes = TARGET_BYTES, log = console.log } = {}) {
  const stampFile = path.join(dir, 'stamp.json')
  const want = { bytes, format: 1, line: line(0).length }
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'))
    if (stamp.bytes === want.bytes && stamp.line === want.line && stamp.files.every((f) => fs.existsSync(f))) return stamp
  } catch {
    // no stamp: build
  }
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const { createChainWriter } = require('@chainlog/core')
  log(`building a ${(bytes / 1024 ** 3).toFixed(1)} GiB log in ${path.relative(process.cwd(), dir)} with the core writer…`)
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), size: '256m' })
  const start = Date.now()
  let written = 0
  let i = 0
  while (written < bytes) {
    for (let k = 0; k < 10_000; k++, i++) {
      const l = line(i)
      written += l.length + 131
      if (!w.write(l)) await new Promise((resolve) => w.once('drain', resolve))
    }
  }
  await w.close()
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).map((f) => path.join(dir, f))
  const total = files.reduce((n, f) => n + fs.statSync(f).size, 0)
  const stamp = { ...want, files, totalBytes: total, userRecords: i, lines: i + files.length }
  fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2))
  log(`  ${i.toLocaleString('en-US')} records, ${files.length} files, ${(total / 1e6).toFixed(0)} MB in ${((Date.now() - start) / 1000).toFixed(1)} s`)
  return stamp
}

const hasGnuTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0

/**
 * Runs a command, its stdout to /dev/null; returns wall seconds, and from GNU
 * time (when available) peak RSS (MB) and CPU seconds (user + system: on a
 * shared machine the wall time carries other processes' load, the CPU time
 * much less).
 */
function measure(cmd, args, env) {
  const devnull = fs.openSync('/dev/null', 'w')
  try {
    const argv = hasGnuTime ? ['/usr/bin/time', ['-f', '@@%M %U %S', cmd, ...args]] : [cmd, args]
    const start = process.hrtime.bigint()
    const r = spawnSync(argv[0], argv[1], { stdio: ['ignore', devnull, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, ...env } })
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const m = /@@(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '')
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${(r.stderr ?? '').replace(/@@[\d. ]+\s*$/, '').trim()}`)
    return { seconds, rssMB: m ? Number(m[1]) / 1024 : null, cpu: m ? Number(m[2]) + Number(m[3]) : null }
  } finally {
    fs.closeSync(devnull)
  }
}

/** Splits `files` into `n` groups of about equal size (largest first, each to the smallest group). */
function shareOut(files, n) {
  const groups = Array.from({ length: Math.max(1, Math.min(n, files.length)) }, () => ({ bytes: 0, files: [] }))
  for (const f of [...files].sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)) {
    const g = groups.reduce((min, x) => (x.bytes < min.bytes ? x : min))
    g.files.push(f)
    g.bytes += fs.statSync(f).size
  }
  return groups.map((g) => g.files)
}

/**
 * Measures every command ROUNDS times, interleaved, and returns one row per
 * command: median seconds, records/s, MB/s, peak RSS (MB, null without GNU
 * time) and the ratios to sha256sum and to cat, with the size of the log.
 */
export async function run({ rounds = ROUNDS, log = console.log, bytes = Number(process.env.CHAINLOG_BENCH_BYTES) || TARGET_BYTES } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'packages/cli/dist/verify-log.js'))) throw new Error('build first: npm run build')
  const { files, totalBytes, lines } = await buildLog({ log, bytes })
  // The native hash path and the JS fallback side by side (#17), where the addon is built.
  const paths = hashPaths()
  const cores = os.availableParallelism()
  const commands = [
    { name: 'cat > /dev/null', cmd: 'cat', args: files },
    { name: 'sha256sum', cmd: 'sha256sum', args: files },
    // SHA-256 itself on every core: one sha256sum per core, the files shared out by size.
    { name: `sha256sum x${cores} in parallel`, cmd: 'sh', args: ['-c', `${shareOut(files, cores).map((group) => `sha256sum ${group.map((f) => `'${f}'`).join(' ')} &`).join(' ')} wait`] },
    ...paths.flatMap((p) => [
      { name: `verify-log --jobs 1${p.suffix}`, cmd: process.execPath, args: [VERIFY_LOG, '--quiet', '--jobs', '1', OUT], env: p.env },
      { name: `verify-log (all ${cores} cores)${p.suffix}`, cmd: process.execPath, args: [VERIFY_LOG, '--quiet', OUT], env: p.env },
    ]),
  ]
  const loadBefore = os.loadavg()[0]
  measure('cat', files) // warm the page cache
  const results = new Map(commands.map((c) => [c.name, []]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < commands.length; k++) {
      const c = commands[(k + r) % commands.length]
      results.get(c.name).push(measure(c.cmd, c.args, c.env))
    }
  }
  const rows = commands.map((c) => {
    const runs = results.get(c.name)
    const seconds = median(runs.map((x) => x.seconds))
    const bestSeconds = Math.min(...runs.map((x) => x.seconds))
    const peakRssMB = runs.every((x) => x.rssMB !== null) ? Math.max(...runs.map((x) => x.rssMB)) : null
    const cpuSeconds = runs.every((x) => x.cpu !== null) ? median(runs.map((x) => x.cpu)) : null
    return { name: c.name, seconds, recordsPerSec: lines / seconds, bestRecordsPerSec: lines / bestSeconds, cpuSeconds, mbPerSec: totalBytes / 1e6 / seconds, peakRssMB, bytes: totalBytes, records: lines, files: files.length, cores, rounds, loadBefore }
  })
  const sha = rows.find((r) => r.name === 'sha256sum').seconds
  const cat = rows.find((r) => r.name === 'cat > /dev/null').seconds
  const times = (name) => results.get(name).map((x) => x.seconds)
  const shaAll = commands.find((c) => c.name.startsWith('sha256sum x')).name
  // Each row against SHA-256 alone on as many cores: sha256sum, or one per core for the all-cores rows.
  const peerOf = (name) => (name.startsWith('verify-log (all') ? shaAll : 'sha256sum')
  for (const r of rows) {
    r.vsSha256sum = sha / r.seconds
    r.vsCat = cat / r.seconds
    // Round by round (lib.mjs pairedRatio): the ratio #17's targets are checked on.
    r.vsPeer = r.name === 'sha256sum' ? null : { peer: peerOf(r.name), ...pairedRatio(times(r.name), times(peerOf(r.name)), false) }
  }
  return rows
}

export function formatTable(rows, title = defaultTitle(rows)) {
  const out = [title, `${'command'.padEnd(26)}${'seconds'.padStart(9)}${'records/s'.padStart(13)}${'MB/s'.padStart(8)}${'best rec/s'.padStart(13)}${'cpu s'.padStart(8)}${'peak RSS'.padStart(10)}${'vs sha256sum'.padStart(14)}${'vs cat'.padStart(8)}`]
  for (const r of rows) {
    out.push(
      `${r.name.padEnd(26)}${r.seconds.toFixed(2).padStart(9)}${Math.round(r.recordsPerSec).toLocaleString('en-US').padStart(13)}${r.mbPerSec.toFixed(0).padStart(8)}${Math.round(r.bestRecordsPerSec).toLocaleString('en-US').padStart(13)}${(r.cpuSeconds === null ? '?' : r.cpuSeconds.toFixed(2)).padStart(8)}${(r.peakRssMB === null ? '?' : `${r.peakRssMB.toFixed(0)} MB`).padStart(10)}${`${r.vsSha256sum.toFixed(2)}x`.padStart(14)}${`${r.vsCat.toFixed(2)}x`.padStart(8)}`,
    )
  }
  // The first verify-log rows are the default path (native where it is built).
  const one = rows.find((r) => r.name.startsWith('verify-log --jobs 1'))
  const all = rows.find((r) => r.name.startsWith('verify-log (all'))
  const shaAll = rows.find((r) => r.name.startsWith('sha256sum x'))
  const ok = (b) => (b ? 'met' : 'NOT met')
  out.push(
    `verify-log with all cores runs at ${(all.seconds > 0 ? shaAll.seconds / all.seconds : 0).toFixed(2)}x the speed of ${shaAll.name} (SHA-256 alone on every core)`,
    `#17 targets (${one.name.includes('js path') ? 'js path: the addon is not built' : 'native path'}), on the rounds' own ratios: --jobs 1 >= 2.5x sha256sum: ${ok(one.vsPeer.ratio >= 2.5)} (${one.vsPeer.ratio.toFixed(2)}x, ${one.vsPeer.spread.map((x) => x.toFixed(2)).join('-')}x); all cores >= 2x ${shaAll.name}: ${ok(all.vsPeer.ratio >= 2)} (${all.vsPeer.ratio.toFixed(2)}x, ${all.vsPeer.spread.map((x) => x.toFixed(2)).join('-')}x)`,
    `targets (on the median): >= 2M records/s with all cores: ${ok(all.recordsPerSec >= 2e6)}; >= 1M records/s with --jobs 1: ${ok(one.recordsPerSec >= 1e6)}; peak RSS < 150 MB: ${ok([one, all].every((r) => r.peakRssMB !== null && r.peakRssMB < 150))}`,
    `1-minute load average before the runs: ${rows[0].loadBefore.toFixed(2)} (other processes on the machine slow the medians)`,
  )
  return out.join('\n')
}

function defaultTitle(rows) {
  const { bytes, records, files, cores, rounds } = rows[0]
  return `verify: ${(bytes / 1e9).toFixed(2)} GB, ${records.toLocaleString('en-US')} records (~${Math.round(bytes / records)} B each) in ${files} files, ${cores} cores, median of ${rounds} rounds`
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  console.log(formatTable(await run()))
}
