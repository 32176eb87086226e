#!/usr/bin/env node
// `npm run bench`: every benchmark, each row the median of at least 5 runs
// and its ratio to the peer it replaces, in one table; also written to
// bench/RESULTS.md with the machine it ran on. A ratio is the median of the
// ratios of neighbouring runs (a run and its peer's run beside it, or two
// runs of one round), and the spread column gives the lowest and highest of
// them (lib.mjs pairedRatio, interleaved).
//
//   node bench/run.mjs [--rounds 5] [--only pino,winston,verify,writers,seal,checkpoint,storage] [--no-write]
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { hashPaths } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, only: { type: 'string' }, 'no-write': { type: 'boolean', default: false } } })
const rounds = Math.max(5, Number(values.rounds))
const only = values.only ? new Set(values.only.split(',')) : null
const want = (name) => !only || only.has(name)
const fmt = (n) => Math.round(n).toLocaleString('en-US')

const rows = []
// #17's targets are for the path chainlog takes: native where the addon is built. The JS fallback's rows
// are printed beside them without a target, unless the addon is not built and the fallback is the path taken.
const nativeBuilt = hashPaths().length > 1
const FALLBACK = ' (js path)'
const add = (group, name, value, unit, ratio, peer, target, spread = null) => rows.push({ group, name, value, unit, ratio, spread, peer, target: nativeBuilt && name.includes(FALLBACK) ? null : target })
const loadBefore = os.loadavg()[0]

if (want('pino')) {
  const { run } = await import('./pino.bench.mjs')
  for (const r of await run({ rounds })) {
    // The baseline's row is its own peer.
    const base = r.name === r.peer
    // #17's targets: steady >= 1.0x, burst >= 0.95x pino-roll.
    add('pino', r.name, r.linesPerSec, 'lines/s', base ? null : r.ratio, base ? null : r.peer, r.name.includes('@chainlog/pino (') ? { ratio: r.workload === 'steady' ? 1.0 : 0.95 } : null, base ? null : r.spread)
  }
}
if (want('winston')) {
  const { run } = await import('./winston.bench.mjs')
  for (const r of await run({ rounds })) {
    // The baseline's row is its own peer.
    const base = r.name === r.peer
    add('winston', r.name, r.linesPerSec, 'lines/s', base ? null : r.ratio, base ? null : r.peer, r.name.includes('@chainlog/winston') ? { ratio: 1.2 } : null, base ? null : r.spread)
  }
}
if (want('verify')) {
  const { run } = await import('./verify.bench.mjs')
  const res = await run({ rounds, log: () => {} })
  for (const r of res) {
    const all = r.name.startsWith('verify-log (all')
    // #17's targets: --jobs 1 >= 2.5x sha256sum; all cores >= 2x sha256sum on every core.
    const target = r.name.startsWith('verify-log --jobs 1') ? { ratio: 2.5 } : all ? { ratio: 2 } : null
    // Each row against SHA-256 alone on as many cores, round by round.
    add('verify', `${r.name}${r.peakRssMB ? ` (peak RSS ${r.peakRssMB.toFixed(0)} MB)` : ''}`, r.recordsPerSec, 'records/s', r.vsPeer?.ratio ?? null, r.vsPeer?.peer ?? null, target, r.vsPeer?.spread)
  }
}
if (want('writers')) {
  const { bench } = await import('./multiwriter.bench.mjs')
  for (const r of await bench({ runs: rounds })) add('many writers', r.name, r.linesPerSec, 'lines/s', r.ratio, r.peer, r.target ? { ratio: r.target } : null, r.spread)
}
if (want('seal') && fs.existsSync(path.join(here, 'seal.bench.mjs'))) {
  const { run } = await import('./seal.bench.mjs')
  for (const r of await run({ rounds })) add('sealing', r.name, r.linesPerSec, 'lines/s', r.peer ? r.ratio : null, r.peer ?? null, r.peer ? { ratio: 0.95 } : null, r.spread)
}
if (want('checkpoint')) {
  const { run } = await import('./checkpoint.bench.mjs')
  for (const r of await run({ rounds })) add('checkpoints', r.name, r.linesPerSec, 'lines/s', r.peer ? r.ratio : null, r.peer ?? null, r.peer ? { ratio: 0.9 } : null, r.spread)
}

if (want('storage')) {
  // Sizes, not speeds: one run is exact, so no rounds. The ratio is chained bytes to pino-roll's.
  const { run } = await import('./storage.bench.mjs')
  for (const r of await run()) {
    const size = `${Math.round(r.lineBytes)} B lines`
    add('storage', `@chainlog/pino, ${size}`, r.chained.raw / r.lines, 'bytes/line', r.ratio, 'pino-roll', null)
    add('storage', `@chainlog/pino, ${size}, gzipped`, r.chained.gz / r.lines, 'bytes/line', r.gzRatio, 'pino-roll, gzipped', null)
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const machine = `${os.availableParallelism()} cores (${cpu.trim()}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`
const header = ['group', 'benchmark', 'median', 'unit', 'ratio', 'spread', 'to', 'target']
const table = rows.map((r) => [
  r.group,
  r.name,
  fmt(r.value),
  r.unit,
  r.ratio == null ? '' : `${r.ratio.toFixed(2)}x`,
  r.spread ? `${r.spread[0].toFixed(2)}-${r.spread[1].toFixed(2)}x` : '',
  r.peer ?? '',
  r.target == null ? '' : r.target.ratio !== undefined ? `>= ${r.target.ratio.toFixed(2)}x ${r.ratio != null && r.ratio >= r.target.ratio ? 'met' : 'NOT met'}` : `>= ${fmt(r.target.value)} ${r.value >= r.target.value ? 'met' : 'NOT met'}`,
])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)))
const line = (cells) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')
const text = [line(header), ...table.map(line)].join('\n')
console.log(`chainlog benchmarks, median of ${rounds} runs each, on ${machine}; 1-minute load average before: ${loadBefore.toFixed(2)}\n`)
console.log(text)
const targetsOn = nativeBuilt ? 'Targets are checked on the native path (@chainlog/native, built at install where a C compiler is present); the js path rows are its fallback, printed beside them.' : 'The native addon is not built here: the js path is the path chainlog takes, and the targets are checked on it.'
console.log(`\n${targetsOn}`)

if (!values['no-write'] && !only) {
  const md = [
    '# Benchmark results',
    '',
    `Latest \`npm run bench\`, ${new Date().toISOString().slice(0, 10)}, on ${machine}. Each row is the median of ${rounds} runs or more (a baseline runs beside each of its peers);`,
    'peers run in the same process run, interleaved. The machine is shared (1-minute load average before the',
    `runs: ${loadBefore.toFixed(2)}), so compare the ratios rather than the absolute figures. A ratio is the median`,
    'of the ratios of neighbouring runs (a run and its peer\'s run beside it, or two runs of one round); the spread',
    'is the lowest and the highest of them.',
    '',
    '```',
    text,
    '```',
    '',
    targetsOn,
    '',
  ].join('\n')
  // Sections of benchmarks run on their own (## headings, such as bench/shipped.bench.mjs's) stay.
  const previous = fs.existsSync(path.join(here, 'RESULTS.md')) ? fs.readFileSync(path.join(here, 'RESULTS.md'), 'utf8') : ''
  const kept = previous.indexOf('\n## ') === -1 ? '' : previous.slice(previous.indexOf('\n## ') + 1)
  fs.writeFileSync(path.join(here, 'RESULTS.md'), kept ? `${md}\n${kept}` : md)
  console.log('\nwrote bench/RESULTS.md')
}
