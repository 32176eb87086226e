/**
 * `chainlog keygen --out <dir>`: makes the key pair of sealed logs (issue #7,
 * docs/FORMAT.md §13.1): `verify.key`, public, for whoever verifies, and
 * `seal.key`, the private sealing state the transports take as `sealKey`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as os from 'node:os'
import { ErrorCodes, generateSealKeys, systemErrorMeaning, writeCheckpointKeys, writeSealKeys, type SystemErrorContext } from '@chainlog/core'
import { isKeyName, NoteSigner } from '@chainlog/core/format'
import { command } from './args'
import { EXIT_OK, ExitError, usage } from './exit'
import { formatCount, plural } from './format'

export const KEYGEN_HELP = `Usage: chainlog keygen --out <dir> [options]
       chainlog keygen --checkpoint [--origin <origin>] --out <dir>

Creates the keys of sealed logs (docs/FORMAT.md §13):
  <dir>/verify.key  public: give it to auditors, publish it; it verifies seals
                    (verify-log --verify-key) but cannot make them
  <dir>/seal.key    private (mode 0600): keep it on the logging host, readable
                    by the logging service only, and give its path to the
                    transport as sealKey

The sealing key moves forward every epoch and forgets the one before, so
whoever copies the host later cannot sign for earlier times. The keys cover
a fixed number of epochs: make new ones (in a new directory) before they
expire, and keep every old verify.key for as long as you keep its logs.

With --checkpoint, creates the key that signs a log's checkpoints
(docs/FORMAT.md §14), long-lived, separate from the sealing keys:
  <dir>/checkpoint.vkey  public: <origin>+<key id>+<key>, for verify-log
                         --checkpoint-key and for witnesses, which pin it
  <dir>/checkpoint.key   private (mode 0600): for chainlog checkpoint --key
                         and the transports' checkpointKey

Options:
  -o, --out <dir>        directory to write the keys to (created if missing)
      --checkpoint       make a checkpoint key instead of sealing keys
      --origin <origin>  with --checkpoint: the log's name in its checkpoints,
                         stable and unique per chain, e.g. example.com/api/app
                         (default: <host name>/chainlog)
      --interval <time>  epoch length: ms, or with a unit: 30s, 15m, 1h, 1d
                         (default 1h, at least 1s)
      --heartbeat <time> the longest time between two seals, fixed in the keys:
                         the writers seal at least this often (their
                         sealInterval defaults to it and may not exceed it),
                         and verify-log reports longer silences as tampering
                         (default 60s, at least 100ms)
      --epochs <n>       epochs the keys cover (default 8784: a year of hours)
      --force            replace keys already in <dir>; logs sealed with them
                         can then no longer be verified, unless you kept their
                         verify.key
  -h, --help             show this help
`

interface Values {
  out?: string
  checkpoint?: boolean
  origin?: string
  interval?: string
  heartbeat?: string
  epochs?: string
  force?: boolean
  help?: boolean
}

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  checkpoint: { type: 'boolean' },
  origin: { type: 'string' },
  interval: { type: 'string' },
  heartbeat: { type: 'string' },
  epochs: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const UNITS: { [unit: string]: number } = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `--interval`: milliseconds, or a whole number with a unit (`90s`, `15m`, `1h`, `1d`). */
export function parseInterval(value: string): number {
  return parseDuration(value, '--interval', 1000)
}

/** A time option (`--interval`, `--heartbeat`): milliseconds, or a whole number with a unit, at least `min` ms. */
export function parseDuration(value: string, option: string, min: number): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim())
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? 'ms']! : NaN
  if (!Number.isSafeInteger(ms) || ms < min) throw usage(`${option} must be a time of at least ${min % 1000 === 0 ? plural(min / 1000, 'second') : `${min} ms`}: milliseconds, or a number with s, m, h or d (15m, 1h); got ${JSON.stringify(value)}`)
  return ms
}

/** An epoch length in words: "1 hour", "15 minutes", "1,500 ms". */
export function formatInterval(ms: number): string {
  const named: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']]
  for (const [size, name] of named) if (ms % size === 0) return plural(ms / size, name)
  return `${formatCount(ms)} ms`
}

export const keygen = command<Values>('chainlog keygen', OPTIONS, KEYGEN_HELP, async (values, positionals, _ctx) => {
  if (positionals.length) throw usage(`keygen takes no paths (got ${JSON.stringify(positionals[0])}); give the directory with --out <dir>`)
  const out = values.out
  if (out === undefined || out === '') throw usage(`keygen needs --out <dir>: the directory to write ${values.checkpoint ? 'checkpoint.key and checkpoint.vkey' : 'verify.key and seal.key'} to`)
  if (values.checkpoint) return checkpointKeygen(out, values)
  if (values.origin !== undefined) throw usage('--origin names a checkpoint key; give --checkpoint too')
  const interval = values.interval === undefined ? undefined : parseInterval(values.interval)
  const heartbeat = values.heartbeat === undefined ? undefined : parseDuration(values.heartbeat, '--heartbeat', 100)
  let epochs: number | undefined
  if (values.epochs !== undefined) {
    if (!/^\d+$/.test(values.epochs) || Number(values.epochs) < 1 || Number(values.epochs) > 1_000_000) throw usage(`--epochs must be a whole number from 1 to 1000000; got ${JSON.stringify(values.epochs)}`)
    epochs = Number(values.epochs)
  }
  const verifyFile = path.join(out, 'verify.key')
  const sealFile = path.join(out, 'seal.key')
  const existing = [verifyFile, sealFile].filter((f) => fs.existsSync(f))
  if (existing.length && !values.force) {
    throw new ExitError('KEYS_EXIST', `${existing.join(' and ')} already ${existing.length === 1 ? 'exists' : 'exist'}; refusing to overwrite sealing keys (logs sealed with them need that verify.key to be verified). Choose another --out, or give --force to replace them`)
  }
  // Fail on an unusable directory before the keys are computed (a year of hourly epochs takes most of a second).
  try {
    fs.mkdirSync(out, { recursive: true })
  } catch (err) {
    throw writeError(out, err)
  }
  const keys = generateSealKeys({ ...(interval !== undefined && { interval }), ...(epochs !== undefined && { epochs }), ...(heartbeat !== undefined && { heartbeat }) })
  try {
    writeSealKeys(out, keys, { force: values.force === true })
  } catch (err) {
    throw writeError(out, err)
  }
  const k = keys.verifyKey
  const expires = new Date(k.start + k.epochs * k.interval).toISOString()
  const row = (label: string, value: string) => `  ${label.padEnd(11)}${value}\n`
  process.stdout.write(
    `New sealing keys in ${out}\n` +
      row('key id', k.id) +
      row('epoch', `${formatInterval(k.interval)}: seal.key moves forward and erases the previous epoch's key every ${formatInterval(k.interval).replace(/^1 /, '')}`) +
      row('expires', `${expires}, after ${plural(k.epochs, 'epoch')} from ${new Date(k.start).toISOString()}; make new keys before then`) +
      row('verify.key', `${verifyFile}: public; give it to auditors or publish it (verify-log --verify-key ${verifyFile} <log>)`) +
      row('seal.key', `${sealFile}: private (0600); keep it on the logging host only and give it to the transport as sealKey`),
  )
  return EXIT_OK
})

/** `keygen --checkpoint`: the Ed25519 key of a log's checkpoints, named after its origin. */
function checkpointKeygen(out: string, values: Values): number {
  if (values.interval !== undefined || values.epochs !== undefined) throw usage('--interval and --epochs are for sealing keys; a checkpoint key does not expire')
  const origin = values.origin ?? `${os.hostname()}/chainlog`
  if (!isKeyName(origin)) throw usage(`--origin must be one word with no spaces and no + (e.g. example.com/api/app); got ${JSON.stringify(origin)}`)
  const files = [path.join(out, 'checkpoint.key'), path.join(out, 'checkpoint.vkey')]
  const existing = files.filter((f) => fs.existsSync(f))
  if (existing.length && !values.force) {
    throw new ExitError('KEYS_EXIST', `${existing.join(' and ')} already ${existing.length === 1 ? 'exists' : 'exist'}; refusing to overwrite a checkpoint key (witnesses pin it, and old checkpoints need it). Choose another --out, or give --force to replace it`)
  }
  const signer = NoteSigner.generate(origin)
  let written
  try {
    written = writeCheckpointKeys(out, signer, { force: values.force === true })
  } catch (err) {
    throw writeError(out, err)
  }
  const row = (label: string, value: string) => `  ${label.padEnd(16)}${value}\n`
  process.stdout.write(
    `New checkpoint key in ${out}\n` +
      row('origin', origin) +
      row('verifier key', signer.verifierKey()) +
      row('checkpoint.vkey', `${written.vkey}: public; give it to auditors and witnesses (verify-log --checkpoint-key ${written.vkey})`) +
      row('checkpoint.key', `${written.key}: private (0600); for chainlog checkpoint --key and the transports' checkpointKey`),
  )
  return EXIT_OK
}

/** mkdir on a path that is a file. */
const WRITING_KEYS: SystemErrorContext = { EEXIST: { code: ErrorCodes.IO_ERROR, words: 'it is not a directory' } }

/** A failure to write the keys, as one line naming the directory (exit 2), from core's errno table. */
function writeError(dir: string, err: unknown): unknown {
  const meaning = systemErrorMeaning(err, WRITING_KEYS)
  return meaning ? new ExitError('WRITE_FAILED', `cannot write the keys to ${dir}: ${meaning.words}`) : err
}
