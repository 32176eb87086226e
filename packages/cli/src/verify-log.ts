/**
 * `verify-log [options] <path...>`: says whether a chain of log files can be
 * trusted, and if not, exactly which file and line broke and why (issue #5).
 */
import * as os from 'node:os'
import { loadVerifierKey, verifyWithState } from '@chainlog/core'
import { CHAIN_OPTIONS, chainInput, command, parseAsOf, parseExpectation, readKey, readVerifyKey, type ChainValues } from './args'
import { EXIT_BROKEN, EXIT_OK, runMain, usage, type RunContext } from './exit'
import { formatCount } from './format'
import { parseDuration } from './keygen'
import { progress, type ProgressMode } from './progress'
import { checkExpectation, formatReport, reportJson, row, trusted } from './report'
import { checkBundle, readBundle } from './proof-check'
import { NOT_SHIPPED, verifyShippedLog } from './shipped'
import { signedCheckpointJson, signedCheckpointRows, watchCheckpoint } from './signed-checkpoint'
import { verifyInput } from './source'
import { version } from './version'

const HELP = `Usage: verify-log [options] <path...>
       verify-log --shipped [--field <path>] [--checkpoint <file>] [--json] <path...|->

Checks a chainlog log: every record must match its hash and link to the record
before it, across rotated and gzipped files. Prints VALID, BROKEN (with the
file, line, byte offset and reason of each break) or TRUNCATED, and the head
hash with its record count: the value to compare with a copy kept elsewhere.

Each path is a log file (.gz too), a directory, the base path given to the
transport (logs/app.log finds logs/app.1.log, logs/app.2.log.gz, ..., and so
does the transport's symlink), or - to read one file from stdin. Files are put
in chain order by their headers, and every chain found is verified.

A base path or a directory is the whole log: a missing start is a break. Files
given by name, or stdin, are a segment: verified inside and at its joins, and
reported as "VALID segment" with where it sits when it starts later in the chain.

Options:
      --all                  list every break, not just the first
      --json                 print one JSON object on stdout
  -q, --quiet                print nothing; only the exit status tells
  -k, --key <file>           key file of an hmac-sha256 chain
  -j, --jobs <n>             worker threads (default: the number of cores, ${os.availableParallelism()} here)
      --expect-head <hash>   TRUNCATED unless the chain still holds this head hash
      --expect-count <n>     ... at this record count (or, alone, at least n records)
      --checkpoint <file>    both, from a file written by: chainlog head <path> > <file>;
                             with --checkpoint-key, a signed checkpoint (chainlog
                             checkpoint): the log must extend it, the tree at its
                             size must have its root (catches truncation and any
                             rewrite of the past)
      --checkpoint-key <file>  the log's checkpoint verifier key (checkpoint.vkey)
      --witness-key <file>   also require a valid cosignature by this witness on
                             the checkpoint (repeatable)
      --proof <bundle>       check one record offline, with no log: a bundle from
                             chainlog prove, against --checkpoint-key
      --verify-key <file>    check the seals against this verification key (verify.key
                             from chainlog keygen); a log that no valid seal covers fails
      --as-of <time|now>     with --verify-key: unless the log ends with a closing seal,
                             its seals must reach this time (ISO 8601, or now)
      --state <file>         remember what was verified in <file>: the next run verifies
                             only the records written since, and re-checks each closed
                             file by its SHA-256 (a changed, truncated or vanished file
                             is a break); the file is written only when nothing broke
      --shipped              the lines were pulled back from a central store: in any
                             order, with duplicates, from any number of chains, bare or
                             in an envelope (Loki, Elasticsearch, Vector, Fluent Bit,
                             Docker json-file, CRI, syslog); the chains are rebuilt from
                             their links, and gaps, forks and cut records are reported;
                             --expect-head and --checkpoint say whether the chain holding
                             the head reaches it, and how many records its end misses;
                             with --jobs 2 or more (the default on two cores), records
                             are checked on two threads as they are read
      --field <path>         with --shipped: the JSON member holding the record
                             (a dotted path: message, _source.log, kubernetes.log)
      --heartbeat <time>     with a verification key made before keys fixed the
                             heartbeat (version 1): the writers' sealInterval
                             (e.g. 60s); newer keys fix it themselves
      --progress             show the progress bar even for small inputs (terminal only)
      --no-progress          never show the progress bar
  -h, --help                 show this help
  -v, --version              show the version

Exit status:
  0  the chain, or the segment given, is intact (a line still being written is not counted)
  1  a chain is broken, tampered with or TRUNCATED, its seals fail, it does not extend the signed checkpoint, or a proof or signature fails
  2  nothing could be checked: usage error, unreadable path, no chainlog record, wrong key
With --shipped: 0 every chain is complete (and reaches the expected head), 1 gaps, forks,
cut records, tampering or an expected head not reached,
2 the input cannot be read.
`

interface Values extends ChainValues {
  all?: boolean
  json?: boolean
  quiet?: boolean
  'expect-head'?: string
  'expect-count'?: string
  checkpoint?: string
  'checkpoint-key'?: string
  'witness-key'?: string[]
  proof?: string
  'verify-key'?: string
  'as-of'?: string
  state?: string
  heartbeat?: string
  progress?: boolean
  'no-progress'?: boolean
  shipped?: boolean
  field?: string
  version?: boolean
}

const OPTIONS = {
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'expect-head': { type: 'string' },
  'expect-count': { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-key': { type: 'string' },
  'witness-key': { type: 'string', multiple: true },
  proof: { type: 'string' },
  'verify-key': { type: 'string' },
  'as-of': { type: 'string' },
  state: { type: 'string' },
  heartbeat: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  shipped: { type: 'boolean' },
  field: { type: 'string' },
  ...CHAIN_OPTIONS,
  version: { type: 'boolean', short: 'v' },
} as const

export const verifyLog = command<Values>('verify-log', OPTIONS, HELP, async (values, positionals, ctx) => {
  if (values.version) {
    process.stdout.write(`verify-log ${version()}\n`)
    return EXIT_OK
  }
  if (values.json && values.quiet) throw usage('--json and --quiet exclude each other')
  ctx.json = values.json === true
  if (values.field !== undefined && !values.shipped) throw usage('--field names the member of shipped lines that holds the record; use it with --shipped')
  if (values.shipped) {
    const other = NOT_SHIPPED.find((o) => values[o] !== undefined)
    if (other) throw usage(`--${other} does not apply to --shipped`)
    const { input, jobs, key } = chainInput('verify-log', values, positionals)
    const expected = parseExpectation(values)
    return verifyShippedLog({ input, jobs, ...(values.field !== undefined && { field: values.field }), ...(key && { key }), ...(expected?.hash !== undefined && { checkpoint: { hash: expected.hash, ...(expected.count !== undefined && { count: expected.count }) } }), json: values.json === true, quiet: values.quiet === true, all: values.all === true })
  }
  if (values.progress && values['no-progress']) throw usage('--progress and --no-progress exclude each other')
  const witnesses = (values['witness-key'] ?? []).map((f) => loadVerifierKey(f, 'witness'))
  if (values.proof !== undefined) return verifyProof(values, positionals, witnesses)
  if (values['checkpoint-key'] !== undefined && values.checkpoint === undefined) throw usage('--checkpoint-key checks a signed checkpoint: give it with --checkpoint <file> (or a proof bundle with --proof)')
  if (witnesses.length && values['checkpoint-key'] === undefined) throw usage('--witness-key checks the cosignatures of a signed checkpoint: give --checkpoint <file> and --checkpoint-key <file> too')
  const { input, jobs, key } = chainInput('verify-log', values, positionals)
  const signed = values['checkpoint-key'] === undefined ? null : watchCheckpoint(values.checkpoint!, loadVerifierKey(values['checkpoint-key'], 'log'), witnesses)
  // With a signed checkpoint, --checkpoint is that; --expect-head/--expect-count still apply.
  const expected = parseExpectation(signed ? { ...values, checkpoint: undefined } : values)
  if (values['as-of'] !== undefined && values['verify-key'] === undefined) throw usage('--as-of judges the seals of a log; give the verification key with --verify-key')
  const asOf = values['as-of'] === undefined ? undefined : parseAsOf(values['as-of'])
  if (values.heartbeat !== undefined && values['verify-key'] === undefined) throw usage('--heartbeat judges the seals of a log; give the verification key with --verify-key')
  const heartbeat = values.heartbeat === undefined ? undefined : parseDuration(values.heartbeat, '--heartbeat', 100)
  const verifyKey = readVerifyKey(values['verify-key'])
  if (values.state !== undefined) return verifyFromState(input, values.state, { all: values.all === true, json: values.json === true, quiet: values.quiet === true, expected, verifyKey: values['verify-key'], ...(key && { key }) })
  const mode: ProgressMode = values['no-progress'] ? 'never' : values.progress ? 'always' : 'auto'
  const bar = progress(mode, values.json === true || values.quiet === true)
  let report
  try {
    report = await verifyInput(input, {
      jobs,
      all: values.all === true,
      ...(key && { key }),
      ...(verifyKey && { verifyKey }),
      ...(asOf !== undefined && { asOf }),
      ...(heartbeat !== undefined && { heartbeat }),
      ...(expected && { checkpoint: { ...(expected.hash !== undefined && { hash: expected.hash }), ...(expected.count !== undefined && { count: expected.count }) } }),
      ...(bar.onProgress && { onProgress: bar.onProgress }),
      ...(signed && { onRecord: signed.onRecord, onMeta: signed.onMeta }),
    })
  } finally {
    bar.stop()
  }
  const checkpoint = expected ? checkExpectation(report, expected) : null
  const tree = signed ? signed.result() : null
  const ok = trusted(report.verdict) && (tree === null || tree.ok)
  if (values.json) process.stdout.write(JSON.stringify({ ...reportJson(report, checkpoint), ...(tree && { ok, signedCheckpoint: signedCheckpointJson(tree) }) }) + '\n')
  else if (!values.quiet) {
    let text = formatReport(report, checkpoint, { all: values.all === true })
    if (tree) {
      // The chain's own verdict says nothing of the checkpoint: when only the checkpoint fails, it leads.
      if (!tree.ok && trusted(report.verdict)) text = text.replace(/^[^\n]*/, `${tree.failure}: the log does not extend the signed checkpoint ${tree.source} (${formatCount(tree.checkpoint.size)} records)`)
      text += signedCheckpointRows(tree, row).join('\n') + '\n'
    }
    process.stdout.write(text)
  }
  return ok ? EXIT_OK : EXIT_BROKEN
})

/** `--proof <bundle>`: one record, offline, against the checkpoint key. */
function verifyProof(values: Values, positionals: string[], witnesses: ReturnType<typeof loadVerifierKey>[]): number {
  if (positionals.length) throw usage(`--proof checks a bundle with no log at hand; do not name a log too (got ${JSON.stringify(positionals[0])})`)
  if (values['checkpoint-key'] === undefined) throw usage('--proof needs the log\'s checkpoint verifier key: --checkpoint-key <file> (checkpoint.vkey)')
  for (const o of ['checkpoint', 'expect-head', 'expect-count', 'verify-key', 'as-of', 'all'] as const) {
    if (values[o] !== undefined) throw usage(`--${o} checks a log; --proof checks one record without it`)
  }
  const logKey = loadVerifierKey(values['checkpoint-key'], 'log')
  const bundle = readBundle(values.proof!)
  const key = readKey(values.key)
  const proven = checkBundle(bundle, logKey, witnesses, key)
  const cp = proven.checkpoint
  if (values.json) {
    process.stdout.write(JSON.stringify({ ok: true, status: 'VERIFIED', index: proven.index, size: proven.size, origin: cp.origin, root: Buffer.from(cp.root).toString('base64'), record: bundle.record, cosignatures: cp.cosignatures.map((c) => ({ name: c.verifier.name, time: c.time === undefined ? null : Number(c.time) })) }) + '\n')
  } else if (!values.quiet) {
    const lines = [
      `VERIFIED: the record is leaf ${formatCount(proven.index)} of the tree of ${formatCount(proven.size)} records signed by ${cp.origin}`,
      '',
      row('record', bundle.record.length > 200 ? bundle.record.slice(0, 200) + '…' : bundle.record),
      row('checkpoint', `${cp.origin}, ${formatCount(cp.size)} records, root ${Buffer.from(cp.root).toString('base64')} (signature valid)`),
      ...cp.cosignatures.map((c) => row('cosigned', `by ${c.verifier.name}${c.time === undefined ? '' : ` at ${new Date(Number(c.time) * 1000).toISOString()}`}`)),
    ]
    process.stdout.write(lines.join('\n') + '\n')
  }
  return EXIT_OK
}

/**
 * `--state`: verifies what was written since the state's run, re-checks the
 * files it closed by their digests, and writes the state anew when nothing broke.
 */
async function verifyFromState(input: string[] | '-', statePath: string, o: { all: boolean; json: boolean; quiet: boolean; expected: unknown; verifyKey: string | undefined; key?: Uint8Array }): Promise<number> {
  if (input === '-') throw usage('--state needs the log files: what came from stdin cannot be re-checked next time')
  if (o.expected || o.verifyKey !== undefined) throw usage('--state verifies only what is new, so it cannot also check seals (--verify-key) or a kept head (--expect-head, --expect-count, --checkpoint); run those without --state')
  const { report, outcome } = await verifyWithState(input, statePath, { all: o.all, ...(o.key && { key: o.key }) })
  const state = { path: statePath, first: outcome.first, unchanged: outcome.unchanged, saved: outcome.saved }
  if (o.json) process.stdout.write(JSON.stringify({ ...reportJson(report, null), state }) + '\n')
  else if (!o.quiet) {
    const done = outcome.first ? 'no state yet: the whole chain was verified' : `${outcome.unchanged} closed file(s) unchanged by their SHA-256; ${report.records} record(s) verified since the last run`
    process.stdout.write(formatReport(report, null, { all: o.all }) + `  state      ${statePath}: ${done}${outcome.saved ? '' : ' (not updated: the breaks are reported again next time)'}\n`)
  }
  return trusted(report.verdict) ? EXIT_OK : EXIT_BROKEN
}

/** The `verify-log` executable. */
export function main(args = process.argv.slice(2)): Promise<void> {
  // --json is known before parsing fails, so that a usage error is JSON too.
  return runMain({ name: 'verify-log', json: args.includes('--json') && !args.includes('--quiet') && !args.includes('-q') }, (ctx) => verifyLog(args, ctx))
}
