// The cost of seals (issue #7: at most 5% of transport throughput): pino +
// @chainlog/pino with sealKey against the same transport without, the same
// 200k records in the same run, each through a real pino.transport() worker
// thread, timed from the first log call until the transport has closed (the
// closing seal written). Defaults: a seal every 1,000 records and every 60 s.
// Rounds alternate which one goes first; each row is the median of the
// rounds. Run alone: `node bench/seal.bench.mjs [rounds]`; or import run().
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeRecords, RECORDS } from './pino.bench.mjs'
import { median, pairedRatio, timePino } from './lib.mjs'

const require = createRequire(import.meta.url)
const { generateSealKeys, writeSealKeys } = require('@chainlog/core')
const here = fileURLToPath(import.meta.url)

const ROUNDS = 7
const BASELINE = 'pino + @chainlog/pino'
const SEALED = 'pino + @chainlog/pino, sealed'

function timeOne(sealKey, records) {
  return timePino({
    target: '@chainlog/pino',
    records,
    caller: here,
    options: (dir) => {
      const options = { file: path.join(dir, 'app.log'), size: '10m' }
      if (sealKey) {
        // A fresh copy of the sealing state per run, as a service would have its own.
        fs.copyFileSync(sealKey, path.join(dir, 'seal.key'))
        options.sealKey = path.join(dir, 'seal.key')
      }
      return options
    },
    inspect: (dir) => {
      let seals = 0
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.log')) seals += fs.readFileSync(path.join(dir, f), 'latin1').split('|\\m{"t":"seal"').length - 1
      return { seals }
    },
  })
}

/**
 * Runs both `rounds` times, alternating which goes first. Rows: the unsealed
 * transport, and the sealed one with its ratio to it: the median of each
 * round's own ratio, with their `spread` (`ofMedians`: the ratio of the
 * medians); `seals` the seals one run writes.
 */
export async function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-keys-'))
  try {
    // One-hour epochs; a day of them is plenty for a benchmark.
    const { sealKey } = writeSealKeys(keys, generateSealKeys({ epochs: 24 }))
    // One unmeasured run each: the first worker thread and the first file pay for loading code.
    await timeOne(null, records.slice(0, 20_000))
    await timeOne(sealKey, records.slice(0, 20_000))
    const plain = []
    const sealed = []
    let seals = 0
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [null, sealKey] : [sealKey, null]
      const got = {}
      for (const key of order) {
        const res = await timeOne(key, records)
        got[key ? 'sealed' : 'plain'] = res.linesPerSec
        if (key) seals = res.seals
      }
      plain.push(got.plain)
      sealed.push(got.sealed)
    }
    const base = median(plain)
    const withSeals = median(sealed)
    const round3 = (x) => Math.round(x * 1000) / 1000
    return [
      { name: BASELINE, linesPerSec: Math.round(base), ratio: 1, peer: null },
      // The ratio is the median of the rounds' own ratios (lib.mjs pairedRatio), with their spread; ofMedians beside it.
      { name: SEALED, linesPerSec: Math.round(withSeals), ...pairedRatio(sealed, plain), ofMedians: round3(withSeals / base), peer: BASELINE, seals },
    ]
  } finally {
    fs.rmSync(keys, { recursive: true, force: true })
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rounds = Math.max(5, Number(process.argv[2] ?? ROUNDS))
  const rows = await run({ rounds })
  const sealed = rows[1]
  console.log(`sealing, ${RECORDS.toLocaleString('en-US')} records, median of ${rounds} rounds (target: overhead <= 5%)`)
  console.log(`${'transport'.padEnd(32)}${'lines/s'.padStart(12)}${'ratio'.padStart(8)}`)
  for (const r of rows) console.log(`${r.name.padEnd(32)}${r.linesPerSec.toLocaleString('en-US').padStart(12)}${(r.ratio.toFixed(3) + 'x').padStart(8)}`)
  const pct = (x) => `${((1 - x) * 100).toFixed(1)}%`
  console.log(`overhead: ${pct(sealed.ratio)} (median of the per-round ratios, ${sealed.spread[0].toFixed(3)}x to ${sealed.spread[1].toFixed(3)}x), ${pct(sealed.ofMedians)} (of the medians); ${sealed.seals} seals per run`)
}
