/**
 * What verify-log prints: the status, the summary, and each break, for people
 * (text) and for programs (one JSON object).
 */
import type { Break, Head, Verdict, VerifyReport } from '@chainlog/core'
import type { Expectation } from './args'
import { formatCount, lineTime, plural, printable } from './format'
import { isSealBreak, sealHeadline, sealRows } from './seals'

/** Whether the chain still reaches a head kept elsewhere, and if not, why (in words). */
export interface CheckpointResult {
  expected: Expectation
  reached: boolean
  /** The chain length at the record with the expected hash, when there is one. */
  foundAt: number | null
  reason: string | null
}

/** Core's finding about an expected head ({@link VerifyReport.expected}), with the reason in words. */
export function checkExpectation(report: VerifyReport, expected: Expectation): CheckpointResult {
  const found = report.expected
  if (!found) throw new Error('the report holds no head check: the checkpoint was not given to verify()')
  const length = report.head?.count ?? 0
  const reasons = {
    ENDS_BEFORE_HEAD: () => `the chain ends at record ${formatCount(length)}, before the expected head at record ${formatCount(expected.count!)}`,
    HEAD_NOT_FOUND: () => `no record of the chain has the expected head hash ${expected.hash}: records were cut from the end, or the chain was rewritten`,
    HEAD_ELSEWHERE: () => `the expected head hash is record ${formatCount(found.foundAt!)} of the chain, not record ${formatCount(expected.count!)}`,
    TOO_FEW_RECORDS: () => `the chain ends at record ${formatCount(length)}, before the expected record count ${formatCount(expected.count!)}`,
  } satisfies { [s in NonNullable<typeof found.shortfall>]: () => string }
  return { expected, reached: found.reached, foundAt: found.foundAt, reason: found.shortfall === null ? null : reasons[found.shortfall]() }
}

/** Whether a verdict means the chain can be trusted. */
export function trusted(verdict: Verdict): boolean {
  return verdict === 'VALID' || verdict === 'VALID_RECOVERED' || verdict === 'VALID_SEGMENT'
}

const STATUS_LINE: { [s in Verdict]: string } = {
  VALID: 'VALID',
  VALID_RECOVERED: 'VALID with torn tail recovered',
  BROKEN: 'BROKEN',
  TRUNCATED: 'TRUNCATED',
  VALID_SEGMENT: 'VALID segment',
}

/**
 * The head as `chainlog head` prints it and a checkpoint holds it: core's
 * {@link Head}, `hash` and `count`; no trustworthy record gives a null hash.
 */
export function headOf(report: VerifyReport): { hash: string | null; count: number } {
  return { hash: report.head?.hash ?? null, count: report.head?.count ?? 0 }
}

/** The head --json gives: none on a broken chain, as the text says ("head: none to trust"). */
function trustedHead(report: VerifyReport): { hash: string | null; count: number | null } {
  return report.ok ? headOf(report) : { hash: null, count: null }
}

/** The report as the object --json prints. */
export function reportJson(report: VerifyReport, checkpoint: CheckpointResult | null): object {
  const status = report.verdict
  const head = trustedHead(report)
  return {
    ok: trusted(status),
    status,
    records: report.records,
    files: report.files,
    // The head, as in `chainlog head` and checkpoints; `head` repeats the hash under the name
    // --json has always given it, so that objects kept from earlier versions keep working.
    ...head,
    head: head.hash,
    algorithm: report.algorithm,
    chain: report.chain,
    firstTime: lineTime(report.firstLine),
    lastTime: lineTime(report.lastLine),
    breaks: report.breaks.map((b) => ({ file: b.file, line: b.line, offset: b.offset, reason: b.reason, message: b.message, ...(b.expected !== undefined && { expected: b.expected }), ...(b.found !== undefined && { found: b.found }), ...(b.text !== undefined && { text: b.text }) })),
    recovered: report.recovered,
    partial: report.partial,
    retention: report.retention,
    archived: report.archived,
    scope: report.scope,
    segment: report.segment,
    skipped: report.skipped,
    ...(report.chains && { chains: report.chains.map((c) => chainJson(c)) }),
    ...(report.seals && { seals: report.seals }),
    ...(checkpoint && {
      checkpoint: { hash: checkpoint.expected.hash ?? null, count: checkpoint.expected.count ?? null, reached: checkpoint.reached, foundAt: checkpoint.foundAt, reason: checkpoint.reason },
    }),
  }
}

/** One chain of several, as --json lists it under `chains`. */
function chainJson(report: VerifyReport): object {
  const { skipped: _, scope: __, ...rest } = reportJson(report, null) as Record<string, unknown>
  return rest
}

const LABEL = 11
/** One labelled row of the human report. */
export const row = (label: string, value: string) => `  ${label.length >= LABEL ? label + ' ' : label.padEnd(LABEL)}${value}`

/** One break, as a few labelled lines. */
export function formatBreak(b: Break, gz: boolean): string[] {
  const out = [`${b.file}:${b.line} (byte ${formatCount(b.offset)}${gz ? ' of the decompressed data' : ''})`]
  out.push(row('reason', `${b.reason}: ${b.message}`))
  if (b.text !== undefined && b.text !== '') out.push(row('line', printable(b.text)))
  if (b.expected !== undefined) out.push(row('expected', printable(b.expected)))
  if (b.found !== undefined) out.push(row('found', printable(b.found)))
  return out
}

/** Where a segment sits in its chain, in words. */
function segmentWords(report: VerifyReport): string {
  const seg = report.segment!
  if (!seg.anchored) return 'its start is anchored to nothing (the input begins mid-file, with no header): its lines are checked against each other only, not against the chain before them'
  const range = seg.last === null ? `from record ${formatCount(seg.first!)}` : `records ${formatCount(seg.first!)}–${formatCount(seg.last)}`
  return `${range} of chain ${report.chain ?? '?'}; earlier records not given`
}

/** The first line: the verdict, and where the first break is. */
function headline(report: VerifyReport, many: boolean): string {
  const status = report.verdict
  const first = report.breaks[0]
  const chains = report.chains?.length ?? 1
  if (status === 'BROKEN') {
    const broken = report.chains?.filter((c) => !c.ok).length ?? 1
    return sealHeadline(first!) ?? `BROKEN: ${many ? `${broken} of ${chains} chains ${broken === 1 ? 'is' : 'are'} broken; the first ` : 'the chain '}is broken at ${first!.file}:${first!.line} (${first!.reason})`
  }
  if (status === 'TRUNCATED') return 'TRUNCATED: the chain no longer reaches the expected head'
  if (many) return `VALID: ${chains} chains, each intact${report.chains!.some((c) => c.segment) ? ' (segments among them: see each)' : ''}`
  if (status === 'VALID_SEGMENT') return `VALID segment: intact inside and at its joins; ${segmentWords(report)}`
  if (status === 'VALID_RECOVERED') return `${STATUS_LINE[status]}: the chain is intact; ${plural(report.recovered.length, 'line')} torn by a crash ${report.recovered.length === 1 ? 'was' : 'were'} accounted for by the writer`
  return 'VALID: the chain is intact'
}

/** The full human report. */
export function formatReport(report: VerifyReport, checkpoint: CheckpointResult | null, options: { all: boolean }): string {
  const status = report.verdict
  const lines: string[] = []
  const many = report.chains !== undefined
  lines.push(headline(report, many))
  if (report.breaks.length) {
    lines.push('')
    report.breaks.forEach((b, i) => {
      if (report.breaks.length > 1) lines.push(`break ${i + 1} of ${report.breaks.length}`)
      lines.push(...formatBreak(b, b.file.endsWith('.gz')))
      lines.push('')
    })
    if (!options.all) lines.push('Verification stopped at the first break; --all lists every break.', '')
  }
  if (checkpoint && !checkpoint.reached) {
    if (status !== 'TRUNCATED') lines.push('The chain also no longer reaches the expected head:')
    lines.push(row('expected', `head ${checkpoint.expected.hash ?? '(any)'}${checkpoint.expected.count !== undefined ? ` at record ${formatCount(checkpoint.expected.count)}` : ''} (from ${checkpoint.expected.source})`))
    lines.push(row('found', checkpoint.reason!))
    lines.push('')
  } else if (report.breaks.length === 0) lines.push('')
  if (many) {
    report.chains!.forEach((c, i) => {
      lines.push(`chain ${i + 1} of ${report.chains!.length}: ${c.verdict === 'BROKEN' ? 'BROKEN' : STATUS_LINE[c.verdict]}`, ...summary(c, null, options.all), '')
    })
    lines.pop()
  } else lines.push(...summary(report, checkpoint, options.all))
  for (const s of report.skipped) lines.push(row('skipped', `${s.file}: ${s.message}`))
  return lines.join('\n') + '\n'
}

function summary(report: VerifyReport, checkpoint: CheckpointResult | null, all: boolean): string[] {
  const out: string[] = []
  const files = report.files
  const torn = report.recovered.length
  // head.count counts the chain's physical lines, torn lines a writer terminated included: say so, or the two disagree.
  out.push(row('records', `${formatCount(report.records)} verified in ${plural(files.length, 'file')}${torn ? `, and ${plural(torn, 'torn line')} the writer terminated` : ''}`))
  if (report.segment) out.push(row('segment', segmentWords(report)))
  if (files.length) out.push(row('files', files.length <= 3 ? files.join(', ') : `${files[0]} … ${files.at(-1)}`))
  if (report.algorithm) out.push(row('algorithm', report.algorithm))
  if (report.chain) out.push(row('chain', report.chain))
  const t0 = lineTime(report.firstLine)
  const t1 = lineTime(report.lastLine)
  if (t0 || t1) out.push(row('time', `${t0 ?? '?'} → ${t1 ?? '?'}`))
  if (!report.ok) out.push(row('head', report.breaks.every(isSealBreak) ? 'none to trust: the seals fail' : 'none to trust: the chain is broken'))
  else if (report.head) out.push(row('head', `${report.head.hash} (record ${formatCount(report.head.count)} of ${report.segment?.anchored === false ? 'the input, counted from its first line' : 'the chain'}${torn ? `, ${torn === 1 ? 'the torn line' : 'the torn lines'} included` : ''})`))
  else out.push(row('head', 'none (no record verified)'))
  out.push(...sealRows(report, all, row))
  if (checkpoint?.reached) out.push(row('checkpoint', `reached: ${checkpoint.expected.hash ? `head ${checkpoint.expected.hash.slice(0, 16)}… is record ${formatCount(checkpoint.foundAt!)}` : `the chain holds at least ${formatCount(checkpoint.expected.count!)} records`} (from ${checkpoint.expected.source})`))
  for (const r of report.recovered) out.push(row('recovered', `${r.file}:${r.line} (byte ${formatCount(r.offset)}): a ${plural(r.length, 'byte')} line torn by a crash, named by the writer's recovery record`))
  if (report.retention.length) {
    const names = report.retention.map((d) => `${d.file} (index ${d.index}, ${plural(d.records, 'line')})`)
    out.push(row('retention', `${plural(report.retention.length, 'file')} deleted by the writer's retention policy, as recorded in the chain: ${names.join(', ')}`))
  }
  if (report.archived.length) {
    const names = report.archived.map((d) => `${d.file} (${plural(d.records, 'line')}, to ${d.to})`)
    out.push(row('archived', `${plural(report.archived.length, 'file')} moved away by chainlog archive, as recorded in the chain: ${names.join(', ')}`))
  }
  const p = report.partial
  if (p) out.push(row('in progress', `${p.file}:${p.line} (byte ${formatCount(p.offset)}): a partial last line of ${plural(p.length, 'byte')}, still being written (or cut by a crash); not verified yet`))
  return out
}
