/**
 * `verify-log [options] <path...>`: says whether a chain of log files can be
 * trusted, and if not, exactly which file and line broke and why (issue #5).
 */
import * as os from 'node:os'
import { CHAIN_OPTIONS, chainInput, parse, parseAsOf, parseExpectation, readVerifyKey, type ChainValues } from './args'
import { EXIT_BROKEN, EXIT_OK, runMain, usage, type RunContext } from './exit'
import { progress, type ProgressMode } from './progress'
import { checkExpectation, formatReport, reportJson, trusted } from './report'
import { NOT_SHIPPED, verifyShippedLog } from './shipped'
import { verifyInput } from './source'
import { version } from './version'

const HELP = `Usage: verify-log [options] <path...>
       verify-log --shipped [--field <path>] [--checkpoint <file>] [--json] <path...|->

Checks a chainlog log: every record must match its hash and link to the record
before it, across rotated and gzipped files. Prints VALID, BROKEN (with the
file, line, byte offset and reason of each break) or TRUNCATED, and the head
hash with its record count: the value to compare with a copy kept elsewhere.

Each path is a log file (.gz too), a directory, the base path given to the
transport (logs/app.log finds logs/app.1.log, logs/app.2.log.gz, ...), or - to
read one file from stdin. Files are put in chain order by their headers.

Options:
      --all                  list every break, not just the first
      --json                 print one JSON object on stdout
  -q, --quiet                print nothing; only the exit status tells
  -k, --key <file>           key file of an hmac-sha256 chain
  -j, --jobs <n>             worker threads (default: the number of cores, ${os.availableParallelism()} here)
      --expect-head <hash>   TRUNCATED unless the chain still holds this head hash
      --expect-count <n>     ... at this record count (or, alone, at least n records)
      --checkpoint <file>    both, from a file written by: chainlog head <path> > <file>
      --verify-key <file>    check the seals against this verification key (verify.key
                             from chainlog keygen); a log that no valid seal covers fails
      --as-of <time|now>     with --verify-key: unless the log ends with a closing seal,
                             its seals must reach this time (ISO 8601, or now)
      --shipped              the lines were pulled back from a central store: in any
                             order, with duplicates, from any number of chains, bare or
                             in an envelope (Loki, Elasticsearch, Vector, Fluent Bit,
                             Docker json-file, CRI, syslog); the chains are rebuilt from
                             their links, and gaps, forks and cut records are reported;
                             --expect-head and --checkpoint say whether the chain holding
                             the head reaches it, and how many records its end misses
      --field <path>         with --shipped: the JSON member holding the record
                             (a dotted path: message, _source.log, kubernetes.log)
      --progress             show the progress bar even for small inputs (terminal only)
      --no-progress          never show the progress bar
  -h, --help                 show this help
  -v, --version              show the version

Exit status:
  0  the chain is intact (a partial last line still being written is reported, not counted)
  1  the chain is broken, tampered with or TRUNCATED, or its seals fail (--verify-key)
  2  usage error, unreadable path, input that is not a chainlog file, missing or wrong key
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
  'verify-key'?: string
  'as-of'?: string
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
  'verify-key': { type: 'string' },
  'as-of': { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  shipped: { type: 'boolean' },
  field: { type: 'string' },
  ...CHAIN_OPTIONS,
  version: { type: 'boolean', short: 'v' },
} as const

export async function verifyLog(args: string[], ctx: RunContext): Promise<number> {
  const { values, positionals } = parse<Values>('verify-log', args, OPTIONS)
  if (values.help) {
    process.stdout.write(HELP)
    return EXIT_OK
  }
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
    const { input, key } = chainInput('verify-log', values, positionals)
    const expected = parseExpectation(values)
    return verifyShippedLog({ input, ...(values.field !== undefined && { field: values.field }), ...(key && { key }), ...(expected?.hash !== undefined && { checkpoint: { hash: expected.hash, ...(expected.count !== undefined && { count: expected.count }) } }), json: values.json === true, quiet: values.quiet === true, all: values.all === true })
  }
  if (values.progress && values['no-progress']) throw usage('--progress and --no-progress exclude each other')
  const { input, jobs, key } = chainInput('verify-log', values, positionals)
  const expected = parseExpectation(values)
  if (values['as-of'] !== undefined && values['verify-key'] === undefined) throw usage('--as-of judges the seals of a log; give the verification key with --verify-key')
  const asOf = values['as-of'] === undefined ? undefined : parseAsOf(values['as-of'])
  const verifyKey = readVerifyKey(values['verify-key'])
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
      ...(expected && { checkpoint: { ...(expected.hash !== undefined && { hash: expected.hash }), ...(expected.count !== undefined && { count: expected.count }) } }),
      ...(bar.onProgress && { onProgress: bar.onProgress }),
    })
  } finally {
    bar.stop()
  }
  const checkpoint = expected ? checkExpectation(report, expected) : null
  if (values.json) process.stdout.write(JSON.stringify(reportJson(report, checkpoint)) + '\n')
  else if (!values.quiet) process.stdout.write(formatReport(report, checkpoint, { all: values.all === true }))
  return trusted(report.verdict) ? EXIT_OK : EXIT_BROKEN
}

/** The `verify-log` executable. */
export function main(args = process.argv.slice(2)): Promise<void> {
  // --json is known before parsing fails, so that a usage error is JSON too.
  return runMain({ name: 'verify-log', json: args.includes('--json') && !args.includes('--quiet') && !args.includes('-q') }, (ctx) => verifyLog(args, ctx))
}
