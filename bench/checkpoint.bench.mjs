// The cost of checkpoints written as the log is written (#16: at least 0.9x):
// pino + @chainlog/pino with checkpointKey against the same transport
// without, the same records in the same run, each through a real
// pino.transport() worker thread, timed from the first log call until the
// transport has closed (the closing checkpoint written and
// `<base>.checkpoint` replaced). checkpointInterval 1 s, so that a run of a
// few seconds catches the tree up from disk several times, not only at open
// and close. Rounds alternate which one goes first; each row is the median of
// the rounds. Run alone: `node bench/checkpoint.bench.mjs [rounds]`; or import run().
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeRecords, RECORDS } from './pino.bench.mjs'
import { median, pairedRatio, timePino } from './lib.mjs'

const require = createRequire(import.meta.url)
const { writeCheckpointKeys } = require('@chainlog/core')
const { NoteSigner } = require('@chainlog/core/format')
const here = fileURLToPath(import.meta.url)

const ROUNDS = 5
const BASELINE = 'pino + @chainlog/pino'
const WITH = 'pino + @chainlog/pino, checkpoints'

function timeOne(checkpointKey, records) {
  return timePino({
    target: '@chainlog/pino',
    records,
    caller: here,
    options: (dir) => ({ file: path.join(dir, 'app.log'), size: '10m', ...(checkpointKey && { checkpointKey, checkpointInterval: 1000 }) }),
    inspect: (dir) => {
      let checkpoints = 0
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.log')) checkpoints += fs.readFileSync(path.join(dir, f), 'latin1').split('|\\m{"t":"checkpoint"').length - 1
      return { checkpoints }
    },
  })
}

/** Runs both `rounds` times, alternating which goes first; rows as seal.bench.mjs's. */
export async function run({ records = makeRecords(), rounds = ROUNDS } = {}) {
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-bench-keys-'))
  try {
    const { key } = writeCheckpointKeys(keys, NoteSigner.generate('bench.example/app'))
    await timeOne(null, records.slice(0, 20_000))
    await timeOne(key, records.slice(0, 20_000))
    const plain = []
    const withCk = []
    let checkpoints = 0
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [null, key] : [key, null]
      const got = {}
      for (const k of order) {
        const res = await timeOne(k, records)
        got[k ? 'with' : 'plain'] = res.linesPerSec
        if (k) checkpoints = res.checkpoints
      }
      plain.push(got.plain)
      withCk.push(got.with)
    }
    const base = median(plain)
    const w = median(withCk)
    const round3 = (x) => Math.round(x * 1000) / 1000
    return [
      { name: BASELINE, linesPerSec: Math.round(base), ratio: 1, peer: null },
      // The ratio is the median of the rounds' own ratios (lib.mjs pairedRatio), with their spread; ofMedians beside it.
      { name: WITH, linesPerSec: Math.round(w), ...pairedRatio(withCk, plain), ofMedians: round3(w / base), peer: BASELINE, checkpoints },
    ]
  } finally {
    fs.rmSync(keys, { recursive: true, force: true })
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === here) {
  const rounds = Math.max(1, Number(process.argv[2] ?? ROUNDS))
  const rows = await run({ rounds })
  const c = rows[1]
  console.log(`checkpoints, ${RECORDS.toLocaleString('en-US')} records, median of ${rounds} rounds (target: >= 0.9x)`)
  console.log(`${'transport'.padEnd(36)}${'lines/s'.padStart(12)}${'ratio'.padStart(8)}`)
  for (const r of rows) console.log(`${r.name.padEnd(36)}${r.linesPerSec.toLocaleString('en-US').padStart(12)}${(r.ratio.toFixed(3) + 'x').padStart(8)}`)
  console.log(`ratio: the median of the per-round ratios (${c.spread[0].toFixed(3)}x to ${c.spread[1].toFixed(3)}x); of the medians ${c.ofMedians.toFixed(3)}x; ${c.checkpoints} checkpoint records per run`)
}
