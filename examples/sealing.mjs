#!/usr/bin/env node
// Seals: signed, forward-secure checkpoints in the chain (docs/FORMAT.md §13).
// Make a key pair, log through @chainlog/pino with `sealKey`, verify with the
// public key only, then cut the tail off a copy: a plain chain cannot show
// that, the seals do.
//
//   node examples/sealing.mjs [out-dir]          (logs go to <out-dir>/sealing, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { generateSealKeys, loadVerifyKey, verify, writeSealKeys } from '@chainlog/core'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'sealing')
fs.rmSync(dir, { recursive: true, force: true })
const keys = path.join(dir, 'keys')
const file = path.join(dir, 'logs', 'app.log')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const epochOf = () => JSON.parse(fs.readFileSync(path.join(keys, 'seal.key'), 'utf8')).epoch
const verifyLog = (...args) => {
  console.log(`$ verify-log ${args.map((a) => (a.startsWith('/') ? path.relative(dir, a) : a)).join(' ')}`)
  return spawnSync('npx', ['--no-install', 'verify-log', ...args], { cwd: here, stdio: 'inherit' }).status
}

/**
 * Verifies the chain and its seals with the public key, through
 * @chainlog/core's verify(): what `verify-log --verify-key <verify.key>
 * [--as-of <time>]` is to do (docs/FORMAT.md §13.4), which @chainlog/cli does
 * not offer yet. Returns an exit status as verify-log's: 0 intact, 1 not.
 */
async function verifySeals(base, asOf) {
  const report = await verify(base, { verifyKey: loadVerifyKey(path.join(keys, 'verify.key')), ...(asOf !== undefined && { asOf }) })
  console.log(report.ok ? 'VALID: every record and every seal verifies' : `BROKEN: ${report.breaks.length} problem(s)`)
  for (const b of report.breaks) console.log(`  ${path.relative(dir, b.file)}:${b.line} ${b.reason}: ${b.message}`)
  const s = report.seals
  console.log(`  seals      ${s.valid} valid; lines 1 to ${s.sealedThrough} covered, ${s.unsealed} final line(s) not sealed`)
  console.log(`  last seal  ${s.lastSealTime === null ? 'none' : new Date(s.lastSealTime).toISOString()} (${s.lastKind ?? '-'}); ${s.closed ? 'the log ends with a closing seal: a clean shutdown' : 'no closing seal: a crash, or a cut tail'}`)
  return report.ok ? 0 : 1
}

// 1. Keys. In production: `npx chainlog keygen --out /etc/myapp/chainlog`
// (one-hour epochs for a year). Here the same through @chainlog/core, with
// 2-second epochs, so that the key evolves while the example runs.
writeSealKeys(keys, generateSealKeys({ interval: 2000, epochs: 600 }))
console.log(`1. keys in ${path.relative(dir, keys)}/: verify.key (public, give it to whoever verifies) and seal.key (private, 0600)`)
console.log(`   seal.key holds the seed of epoch ${epochOf()}`)

// 2. A sealed log: a seal every 100 records, and at least every second
// (a heartbeat, also when idle), at rotation and at shutdown.
const transport = pino.transport({
  target: '@chainlog/pino',
  options: { file, mkdir: true, sealKey: path.join(keys, 'seal.key'), sealEvery: 100, sealInterval: 1000 },
})
transport.on('error', (err) => {
  console.error(`transport error: ${err.message}`)
  process.exit(1)
})
await once(transport, 'ready')
const logger = pino(transport)
console.log('2. logging 300 lines over about 5 seconds')
for (let i = 1; i <= 300; i++) {
  logger.info({ transfer: i, eur: (i * 41) % 1000 }, 'transfer booked')
  if (i % 60 === 0 && i < 300) await sleep(1000)
}
// Wait for the closing seal and the file's close (ref(): see pino-basic.mjs).
transport.ref()
transport.end()
await once(transport, 'close')
console.log(`   seal.key now holds the seed of epoch ${epochOf()}: the earlier seeds are erased, so whoever copies`)
console.log('   this host from now on cannot sign anything for the time before\n')

// 3. Verification with the public key: every seal is checked, and the log
// must end with a closing seal or recent enough heartbeats.
console.log('3. verify with the public key')
if ((await verifySeals(file)) !== 0) process.exit(1)

// 4. Someone deletes the last 40 records of a copy, and the closing seal
// after them, at a record boundary: what is left is a shorter chain whose
// hashes all match.
const cut = path.join(dir, 'cut')
fs.cpSync(path.dirname(file), cut, { recursive: true })
const last = path.join(cut, fs.readdirSync(cut).filter((f) => f.endsWith('.log')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1))
const lines = fs.readFileSync(last, 'utf8').split('\n').slice(0, -1)
// A record is prev|line|hash; metadata (headers, seals) is a line starting with \m.
const userAt = lines.flatMap((l, i) => (l.slice(65, 67) === '\\m' ? [] : [i]))
const from = userAt.at(-40)
fs.writeFileSync(last, lines.slice(0, from).join('\n') + '\n')
console.log(`\n4. a copy cut after line ${from} of ${path.relative(dir, last)}: the last 40 records and the ${lines.length - from - 40} seal(s) after them are gone`)
console.log('   the hash chain alone cannot see it:')
const plain = verifyLog(path.join(cut, 'app.log'))
console.log('\n   the seals can: no closing seal, and the records after the last seal are not sealed:')
await verifySeals(path.join(cut, 'app.log'))
console.log('\n   judged as of a minute later (the service was known to be running then), the heartbeats stop too early:')
const sealed = await verifySeals(path.join(cut, 'app.log'), Date.now() + 60_000)
console.log(`\n   exit status without the key: ${plain}, with the key: ${sealed}`)
process.exit(plain === 0 && sealed === 1 ? 0 : 1)
