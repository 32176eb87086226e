/**
 * `verify-log --shipped`: lines pulled back from a central store, in any
 * order and envelope, from any number of chains (issue #15). Core rebuilds
 * the chains; this file prints its report, for people and as JSON.
 */
import { verifyShipped, type ShippedChain, type ShippedProblem, type ShippedRecord, type ShippedReport } from '@chainlog/core'
import { EXIT_BROKEN, EXIT_OK, usage } from './exit'
import { formatCount, lineTime, plural, printable } from './format'
import { stdin } from './source'

/** What `--shipped` takes from the command line. */
export interface ShippedRun {
  input: string[] | '-'
  /** Threads that check records (--jobs). */
  jobs: number
  field?: string
  key?: Uint8Array
  json: boolean
  quiet: boolean
  all: boolean
  /** A head kept elsewhere (--expect-head, --checkpoint): the chain holding it must reach it. */
  checkpoint?: { hash: string; count?: number }
}

/** Options that mean nothing for shipped lines. */
export const NOT_SHIPPED = ['expect-count', 'verify-key', 'as-of'] as const

/** Runs `verify-log --shipped`; the exit status: 0 every chain complete, 1 otherwise. */
export async function verifyShippedLog(run: ShippedRun): Promise<number> {
  if (run.field !== undefined && !/^[^.]+(\.[^.]+)*$/.test(run.field)) throw usage(`--field must be a dotted path of member names (message, _source.log, kubernetes.log); got ${JSON.stringify(run.field)}`)
  const report = await verifyShipped(run.input === '-' ? stdin() : run.input, {
    ...(run.field !== undefined && { field: run.field }),
    ...(run.key && { key: run.key }),
    ...(run.checkpoint && { checkpoint: run.checkpoint }),
    limit: run.all ? Number.MAX_SAFE_INTEGER : 20,
    jobs: run.jobs,
  })
  if (run.json) process.stdout.write(JSON.stringify(shippedJson(report)) + '\n')
  else if (!run.quiet) process.stdout.write(formatShipped(report))
  return report.ok ? EXIT_OK : EXIT_BROKEN
}

/** The report as --json prints it: core's report, each chain with its time range. */
export function shippedJson(report: ShippedReport): object {
  return {
    ok: report.ok,
    status: report.verdict,
    inputs: report.inputs,
    lines: report.lines,
    records: report.records,
    duplicates: report.duplicates,
    skipped: report.skipped,
    envelopes: report.envelopes,
    chains: report.chains.map((c) => ({
      chain: c.chain,
      status: c.verdict,
      algorithm: c.algorithm,
      records: c.records,
      duplicates: c.duplicates,
      firstTime: lineTime(c.firstLine),
      lastTime: lineTime(c.lastLine),
      head: c.head,
      runs: c.runs,
      problems: c.problems,
      problemCount: c.problemCount,
      recovered: c.recovered,
      ...(c.reachesHead !== undefined && { reachesHead: c.reachesHead }),
    })),
    ...(report.checkpoint && { checkpoint: report.checkpoint }),
  }
}

const LABEL = 11
const row = (label: string, value: string) => `  ${label.padEnd(LABEL)}${value}`
const at = (r: ShippedRecord) => `${r.file}:${r.line}${r.position === null ? '' : ` (chain position ${formatCount(r.position)})`}`

const HEADLINE = {
  VALID: 'VALID: every chain is complete from its first header to its last record',
  INCOMPLETE: 'INCOMPLETE: records are missing or were cut by a shipper; nothing shows tampering',
  BROKEN: 'BROKEN: records were altered, rewritten or forked',
} as const

/** The human report. */
export function formatShipped(report: ShippedReport): string {
  const out = [HEADLINE[report.verdict], '']
  for (const c of report.chains) out.push(...chain(c), '')
  const cp = report.checkpoint
  if (cp) {
    const at = cp.count === null ? '' : ` (record ${formatCount(cp.count)})`
    out.push(row('checkpoint', cp.reached ? `${cp.chain === null ? 'the' : `chain ${cp.chain}`} reaches the expected head ${cp.hash}${at}` : `NOT reached: ${cp.message}`))
  }
  const kinds = Object.entries(report.envelopes).map(([k, n]) => `${formatCount(n)} ${k === 'record' ? 'bare records' : k}`)
  out.push(row('input', `${plural(report.lines, 'line')} in ${plural(report.inputs.length, 'file')}${kinds.length ? ` (${kinds.join(', ')})` : ''}`))
  out.push(row('records', `${formatCount(report.records)} distinct in ${plural(report.chains.filter((c) => c.chain !== null).length, 'chain')}; ${plural(report.duplicates, 'duplicate')} collapsed`))
  out.push(row('skipped', `${plural(report.skipped, 'line')} holding no record`))
  return out.join('\n') + '\n'
}

function chain(c: ShippedChain): string[] {
  const out = [c.chain === null ? `records of no known chain: ${c.verdict}` : `chain ${c.chain}: ${c.verdict}`]
  if (c.records) out.push(row('records', `${formatCount(c.records)} in chain order${c.duplicates ? `, ${plural(c.duplicates, 'duplicate')} collapsed` : ''}${c.algorithm ? ` (${c.algorithm})` : ''}`))
  const t0 = lineTime(c.firstLine)
  const t1 = lineTime(c.lastLine)
  if (t0 || t1) out.push(row('time', `${t0 ?? '?'} → ${t1 ?? '?'}`))
  if (c.head) out.push(row('head', `${c.head.hash}${c.head.count === null ? '' : ` (record ${formatCount(c.head.count)} of the chain)`}${c.reachesHead === undefined ? '' : c.reachesHead ? '; reaches the expected head' : '; does NOT reach the expected head'}`))
  if (c.runs.length > 1) c.runs.forEach((r, i) => out.push(row(i === 0 ? 'runs' : '', `${at(r.first)} … ${at(r.last)}: ${plural(r.records, 'record')}`)))
  if (c.recovered) out.push(row('recovered', `${plural(c.recovered, 'line')} torn by a crash, named by the writer's recovery record`))
  for (const p of c.problems) out.push(...problem(p))
  if (c.problemCount > c.problems.length) out.push(`  … and ${plural(c.problemCount - c.problems.length, 'more problem')}; --all lists every one`)
  return out
}

function problem(p: ShippedProblem): string[] {
  const out = [`  ${p.reason} at ${p.file}:${p.line}: ${p.message}`]
  if (p.after) out.push(row('  after', at(p.after)))
  if (p.before) out.push(row('  before', at(p.before)))
  if (p.records) for (const r of p.records) out.push(row('  record', at(r)))
  if (p.text !== undefined && p.text !== '') out.push(row('  line', printable(p.text)))
  return out
}
