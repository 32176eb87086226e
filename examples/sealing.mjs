#!/usr/bin/env node
// Seals: signed, forward-secure checkpoints in the chain (docs/FORMAT.md §13).
// `chainlog keygen` makes the keys, pino logs through @chainlog/pino with
// `sealKey`, `verify-log --verify-key` checks the log with the public key
// only; then the tail of a copy is cut off: the hash chain alone cannot show
// that, the seals do.
//
//   node examples/sealing.mjs [out-dir]          (logs go to <out-dir>/sealing, default examples/out)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.join(path.resolve(process.argv[2] ?? path.join(here, 'out')), 'sealing')
fs.rmSync(dir, { recursive: true, force: true })
fs.mkdirSync(dir, { recursive: true })
const file = path.join(dir, 'logs', 'app.log')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const epochOf = () => JSON.parse(fs.readFileSync(path.join(dir, 'keys', 'seal.key'), 'utf8')).epoch

/** Runs verify-log or chainlog (from @chainlog/cli, installed in this workspace) in `dir`; returns its exit status. */
function cli(...args) {
  console.log(`$ ${args.join(' ')}`)
  return spawnSync('npx', ['--prefix', here, '--no-install', ...args], { cwd: dir, stdio: 'inherit' }).status
}

// 1. Keys. In production: `npx -p @chainlog/cli chainlog keygen --out /etc/myapp/chainlog`
// (one-hour epochs for a year, a seal at least every minute). Here 2-second
// epochs, so that the key evolves while the example runs, and a heartbeat of
// one second, fixed in verify.key: the writer seals at least that often.
console.log('1. keys: verify.key is public (give it to whoever verifies), seal.key private (0600, for the writer only)')
if (cli('chainlog', 'keygen', '--out', 'keys', '--interval', '2s', '--epochs', '600', '--heartbeat', '1s') !== 0) process.exit(1)
console.log(`   seal.key holds the seed of epoch ${epochOf()}`)

// 2. A sealed log: a seal every 100 records, and at least every second
// (a heartbeat, also when idle), at rotation and at shutdown.
const transport = pino.transport({
  target: '@chainlog/pino',
  options: { file, mkdir: true, sealKey: path.join(dir, 'keys', 'seal.key'), sealEvery: 100, sealInterval: 1000 },
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
// must end with a closing seal or with recent enough heartbeats.
console.log('3. verify with the public key')
if (cli('verify-log', '--verify-key', 'keys/verify.key', 'logs/app.log') !== 0) process.exit(1)

// 4. Someone deletes the last 40 records of a copy, and the closing seal
// after them, at a record boundary: what is left is a shorter chain whose
// hashes all match.
fs.cpSync(path.join(dir, 'logs'), path.join(dir, 'cut'), { recursive: true })
const name = fs.readdirSync(path.join(dir, 'cut')).filter((f) => f.endsWith('.log')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)
const last = path.join(dir, 'cut', name)
const lines = fs.readFileSync(last, 'utf8').split('\n').slice(0, -1)
// A record is prev|line|hash; metadata (headers, seals) is a line starting with \m.
const userAt = lines.flatMap((l, i) => (l.slice(65, 67) === '\\m' ? [] : [i]))
const from = userAt.at(-40)
fs.writeFileSync(last, lines.slice(0, from).join('\n') + '\n')
console.log(`\n4. a copy cut after line ${from} of cut/${name}: the last 40 records and the ${lines.length - from - 40} seal(s) after them are gone`)
console.log('   the hash chain alone cannot see it:')
const plain = cli('verify-log', 'cut/app.log')
console.log('\n   the seals can: no closing seal, and the records after the last seal are not sealed:')
cli('verify-log', '--verify-key', 'keys/verify.key', 'cut/app.log')
console.log('\n   judged as of a minute from now (the service was known to be running then), the heartbeats stop too early:')
const sealed = cli('verify-log', '--verify-key', 'keys/verify.key', '--as-of', new Date(Date.now() + 60_000).toISOString(), 'cut/app.log')
console.log(`\n   exit status without the key: ${plain}, with the key and --as-of: ${sealed}`)
process.exit(plain === 0 && sealed === 1 ? 0 : 1)
