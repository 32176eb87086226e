/**
 * Command-line parsing on node:util parseArgs, with its errors turned into
 * one-line usage messages, the preamble every command shares (--help, the
 * options it requires), and the option values several commands take.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ErrorCodes, loadKey, loadVerifyKey, systemErrorMeaning, type SystemErrorContext, type VerifyKey } from '@chainlog/core'
import { isHash } from '@chainlog/core/format'
import { EXIT_OK, usage, type RunContext } from './exit'

type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed<V> {
  values: V
  positionals: string[]
}

/** parseArgs in strict mode; an unknown option or a missing value is a usage error naming `command`. */
export function parse<V>(command: string, args: string[], options: Options): Parsed<V> {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { values: values as V, positionals }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // parseArgs explains itself in a sentence or two; keep the first.
      const first = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '')
      throw usage(`${first}; see ${command} --help`)
    }
    throw err
  }
}

/**
 * A command: its arguments parsed as {@link parse} does, naming `name` in
 * usage errors, and `--help` answered with `help` on stdout (exit status 0);
 * otherwise `run` gets the values and positionals.
 */
export function command<V extends { help?: boolean }>(name: string, options: Options, help: string, run: (values: V, positionals: string[], ctx: RunContext) => Promise<number>): (args: string[], ctx: RunContext) => Promise<number> {
  return async (args, ctx) => {
    const { values, positionals } = parse<V>(name, args, options)
    if (values.help) {
      process.stdout.write(help)
      return EXIT_OK
    }
    return run(values, positionals, ctx)
  }
}

/** An option `name` cannot do without: its value, or the usage error `<name> needs <option>: <what>`. */
export function required(name: string, value: string | undefined, option: string, what: string): string {
  if (value === undefined) throw usage(`${name} needs ${option}: ${what}`)
  return value
}

/** `--jobs`: a whole number from 1 to 256; the number of cores when absent. */
export function parseJobs(value: string | undefined): number {
  if (value === undefined) return os.availableParallelism()
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) throw usage(`--jobs must be a whole number from 1 to 256; got ${JSON.stringify(value)}`)
  return Number(value)
}

/** `--key <file>`: the hmac-sha256 key (core's loadKey names the file in its errors). */
export function readKey(file: string | undefined): Uint8Array | undefined {
  return file === undefined ? undefined : loadKey(file)
}

/** `--verify-key <file>`: the public key of sealed logs (core's loadVerifyKey names the file in its errors). */
export function readVerifyKey(file: string | undefined): VerifyKey | undefined {
  return file === undefined ? undefined : loadVerifyKey(file)
}

/** `--as-of`: `now`, or an ISO 8601 time (a date alone is midnight UTC); milliseconds since the epoch. */
export function parseAsOf(value: string): number {
  if (value === 'now') return Date.now()
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN
  if (!Number.isFinite(ms)) throw usage(`--as-of must be an ISO 8601 time (2026-11-22T10:00:00Z) or now; got ${JSON.stringify(value)}`)
  return ms
}

/** Paths from positionals: at least one; `-` (stdin) only alone. */
export function inputPaths(command: string, positionals: string[]): string[] | '-' {
  if (positionals.length === 0) throw usage(`no input given; name a log file, a directory or a log base path (or - for stdin); see ${command} --help`)
  if (positionals.includes('-')) {
    if (positionals.length > 1) throw usage('- (stdin) cannot be combined with other paths')
    return '-'
  }
  return positionals
}

/** The options every command that reads a chain takes. Spread into a command's own options. */
export const CHAIN_OPTIONS = {
  key: { type: 'string', short: 'k' },
  jobs: { type: 'string', short: 'j' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The values of {@link CHAIN_OPTIONS}. */
export interface ChainValues {
  key?: string
  jobs?: string
  help?: boolean
}

/** What every chain-reading command derives from its arguments: the input, the worker count and the hmac key. */
export function chainInput(command: string, values: ChainValues, positionals: string[]): { input: string[] | '-'; jobs: number; key: Uint8Array | undefined } {
  return { input: inputPaths(command, positionals), jobs: parseJobs(values.jobs), key: readKey(values.key) }
}

/** A head kept elsewhere: the chain must still reach `hash` at `count`. Either may be absent. */
export interface Expectation {
  hash?: string
  count?: number
  /** Where it came from, for messages. */
  source: string
}

export function parseExpectation(values: { 'expect-head'?: string; 'expect-count'?: string; checkpoint?: string }): Expectation | null {
  const { 'expect-head': head, 'expect-count': count, checkpoint } = values
  if (checkpoint !== undefined) {
    if (head !== undefined || count !== undefined) throw usage('--checkpoint already holds the head and count; do not combine it with --expect-head or --expect-count')
    return readCheckpoint(checkpoint)
  }
  if (head === undefined && count === undefined) return null
  const out: Expectation = { source: 'the command line' }
  if (head !== undefined) {
    if (!isHash(head)) throw usage(`--expect-head must be a head hash: 64 lowercase hex characters; got ${JSON.stringify(head)}`)
    out.hash = head
  }
  if (count !== undefined) {
    if (!/^\d+$/.test(count) || !Number.isSafeInteger(Number(count))) throw usage(`--expect-count must be a whole number; got ${JSON.stringify(count)}`)
    out.count = Number(count)
  }
  return out
}

const READING_CHECKPOINT: SystemErrorContext = { ENOENT: { code: ErrorCodes.IO_ERROR, words: 'no such file' } }

/**
 * Reads a checkpoint: a head (core's `Head`, `{"hash": …, "count": …}`) as
 * `chainlog head` and `verify-log --json` print it. Objects kept from earlier
 * versions of `verify-log --json`, which named the hash `head`, are accepted too.
 */
export function readCheckpoint(file: string): Expectation {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw usage(`cannot read checkpoint ${file}: ${systemErrorMeaning(err, READING_CHECKPOINT)?.words ?? (err as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    if (text.includes('\n\n\u2014 ')) throw usage(`checkpoint ${file} is a signed checkpoint; give the log's verifier key with --checkpoint-key <file> to check it`)
    throw usage(`checkpoint ${file} is not JSON; write it with: chainlog head <path> > ${file}`)
  }
  const v = value as { hash?: unknown; head?: unknown; count?: unknown }
  const hash = typeof v?.hash === 'string' ? v.hash : v?.head
  if (typeof hash !== 'string' || !isHash(hash) || typeof v.count !== 'number' || !Number.isSafeInteger(v.count) || v.count < 0) {
    throw usage(`checkpoint ${file} must hold {"hash": "<64 hex>", "count": <number>} as printed by chainlog head`)
  }
  return { hash, count: v.count, source: file }
}
