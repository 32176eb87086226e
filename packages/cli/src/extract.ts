/**
 * `chainlog extract <path...>`: the original log lines in chain order, with
 * the chain fields stripped and escapes undone, for `| jq` or `| pino-pretty`.
 * A broken chain is refused unless --force; then each break is marked on
 * stderr where it falls in the output.
 */
import type { Break } from '@chainlog/core'
import { hasRecordBounds, HASH_HEX, unescapeLine } from '@chainlog/core/format'
import { CHAIN_OPTIONS, chainInput, command, type ChainValues } from './args'
import { EXIT_BROKEN, EXIT_OK, ExitError } from './exit'
import { formatCount, plural } from './format'
import { LineOutput } from './output'
import { verifyInput } from './source'

export const EXTRACT_HELP = `Usage: chainlog extract [options] <path...>

Prints the original log lines in chain order, with the chain fields removed
and escapes undone:  chainlog extract logs/ | pino-pretty   or   | jq .

The chain is verified first, and a broken chain is refused (exit 1). With
--force the lines are printed anyway, broken ones included, and each break is
marked on stderr at the place it falls in the output. From stdin (-), lines
are printed as they are verified, and output stops at the first break.

Options:
      --force          print from a broken chain, marking each break on stderr
  -k, --key <file>     key file of an hmac-sha256 chain
  -j, --jobs <n>       worker threads for the verification pass
  -h, --help           show this help
`

interface Values extends ChainValues {
  force?: boolean
}

const OPTIONS = {
  force: { type: 'boolean' },
  ...CHAIN_OPTIONS,
} as const

export const extract = command<Values>('chainlog extract', OPTIONS, EXTRACT_HELP, async (values, positionals, ctx) => {
  const { input, jobs, key } = chainInput('chainlog extract', values, positionals)
  const force = values.force === true
  if (input !== '-' && !force) {
    // Nothing is printed from a chain that does not verify: check it all first (in parallel).
    const pre = await verifyInput(input, { jobs, ...(key && { key }) })
    if (!pre.ok) throw refusal(pre.breaks[0]!)
  }
  const out = new LineOutput()
  const mark = (b: Break, line: Buffer | null) => {
    out.flush()
    const text = line && brokenLineText(line)
    if (text !== null && text !== undefined) out.line(text)
    const where = text !== null && text !== undefined ? `output line ${formatCount(out.count)} is that line, unverified` : `after output line ${formatCount(out.count)}`
    out.flush()
    process.stderr.write(`${ctx.name}: BROKEN at ${b.file}:${b.line} (byte ${formatCount(b.offset)}): ${b.reason}: ${b.message}; ${where}\n`)
  }
  // Where the output is: a break found only after its place was printed (a missing start,
  // known at the end of the input) must not be said to have stopped the output before it.
  let printed: { file: string; line: number } | null = null
  const report = await verifyInput(input, {
    jobs,
    ...(key && { key }),
    all: force,
    onLine: (line, where) => {
      printed = where
      out.line(line)
    },
    ...(force && { onBreak: mark }),
    pause: () => out.drain(),
  })
  await out.end()
  if (report.partial) {
    const p = report.partial
    process.stderr.write(`${ctx.name}: note: ${p.file}:${p.line} is a partial last line of ${plural(p.length, 'byte')} (still being written, or cut by a crash); not extracted\n`)
  }
  if (report.ok && report.segment) {
    const seg = report.segment
    process.stderr.write(`${ctx.name}: note: ${seg.anchored ? `a segment of the chain, from its record ${formatCount(seg.first!)}: earlier records not given` : 'the input begins mid-file: its start is anchored to nothing, and its lines are checked against each other only'}\n`)
  }
  if (report.ok) return EXIT_OK
  if (!force) {
    const b = report.breaks[0]!
    const last = printed as { file: string; line: number } | null
    const late = last !== null && report.files.indexOf(b.file) <= report.files.indexOf(last.file) && (b.file !== last.file || b.line <= last.line)
    throw refusal(b, late ? out.count : null)
  }
  process.stderr.write(`${ctx.name}: the chain is broken (${plural(report.breaks.length, 'break')}); lines after a break are not trustworthy\n`)
  return EXIT_BROKEN
})

/** `printed`: undefined before any output; null when output stopped before the break; else the lines printed before it was found. */
function refusal(b: Break, printed?: number | null): ExitError {
  const what = `${b.file}:${b.line} (${b.reason}: ${b.message})`
  return new ExitError(
    'CHAIN_BROKEN',
    printed !== undefined && printed !== null
      ? `the chain is broken at ${what}, found only at the end of the input, after ${plural(printed, 'line')} had been printed: do not trust them. Run verify-log for details`
      : printed === null
      ? `the chain is broken at ${what}; output stopped before it. Run verify-log for details`
      : `refusing to extract from a broken chain: it breaks at ${what}. Run verify-log for details, or add --force to extract anyway (each break is then marked on stderr)`,
  )
}

/** What --force prints for a line that failed: its user line when it has the shape of one, else the line as found; null for metadata. */
function brokenLineText(line: Buffer): string | null {
  const n = line.length
  if (hasRecordBounds(line, 0, n)) {
    const stored = line.toString('utf8', HASH_HEX + 1, n - HASH_HEX - 1)
    if (stored.startsWith('\\m')) return null
    try {
      return unescapeLine(stored)
    } catch {
      return stored
    }
  }
  return line.toString('utf8')
}
