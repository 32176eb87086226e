/**
 * `chainlog inspect <path...>`: what a chain holds: its files with record
 * counts, sizes and time ranges, the algorithm, chain id and head, and the
 * retention and recovery records the writer left in it.
 */
import * as fs from 'node:fs'
import type { FileSummary, VerifyReport } from '@chainlog/core'
import { isKnownMeta, type HeaderMeta, type Meta, type SealMeta, type CheckpointMeta } from '@chainlog/core/format'
import { CHAIN_OPTIONS, chainInput, command, type ChainValues } from './args'
import { EXIT_BROKEN, EXIT_OK } from './exit'
import { formatBytes, formatCount, lineTime, plural, printable } from './format'
import { headOf } from './report'
import { verifyInput } from './source'

export const INSPECT_HELP = `Usage: chainlog inspect [options] <path...>

Describes a chain: its files (index, records, size, time range), algorithm,
chain id and head, whether it verifies, and the retention and recovery
records the writer left in it. Exit status as for verify-log.

Options:
      --json           print one JSON object on stdout
  -k, --key <file>     key file of an hmac-sha256 chain
  -j, --jobs <n>       worker threads
  -h, --help           show this help
`

interface Values extends ChainValues {
  json?: boolean
}

const OPTIONS = {
  json: { type: 'boolean' },
  ...CHAIN_OPTIONS,
} as const

interface FileInfo {
  path: string
  index: number | null
  /** Bytes on disk (compressed for .gz), null for stdin. */
  size: number | null
  /** Bytes of log data (decompressed). */
  bytes: number
  lines: number
  records: number
  firstTime: string | null
  lastTime: string | null
  startedAt: string | null
  reason: string | null
}

/** The metadata records inspect lists one by one (headers go into the file table, seals are counted). */
type RecordedMeta = Exclude<Meta, HeaderMeta | SealMeta | CheckpointMeta>

interface MetaInfo {
  file: string
  line: number
  meta: RecordedMeta
}

export const inspect = command<Values>('chainlog inspect', OPTIONS, INSPECT_HELP, async (values, positionals, ctx) => {
  ctx.json = values.json === true
  const { input, jobs, key } = chainInput('chainlog inspect', values, positionals)
  const headers = new Map<string, HeaderMeta>()
  const files: FileInfo[] = []
  const metas: MetaInfo[] = []
  const others = new Map<string, number>()
  const report = await verifyInput(input, {
    jobs,
    ...(key && { key }),
    all: true,
    onMeta(meta, where) {
      // Seals and the types a later version may add are counted by type.
      if (!isKnownMeta(meta) || meta.t === 'seal' || meta.t === 'checkpoint') others.set(meta.t, (others.get(meta.t) ?? 0) + 1)
      else if (meta.t === 'header') headers.set(where.file, meta)
      else metas.push({ file: where.file, line: where.line, meta })
    },
    onFile(s: FileSummary) {
      const h = headers.get(s.file)
      files.push({
        path: s.file, index: h?.index ?? null, size: sizeOf(s.file), bytes: s.bytes, lines: s.lines, records: s.records,
        firstTime: lineTime(s.firstLine), lastTime: lineTime(s.lastLine), startedAt: h?.time ?? null, reason: h?.reason ?? null,
      })
    },
  })
  const result = { ok: report.ok, status: report.verdict, chain: report.chain, algorithm: report.algorithm, records: report.records, ...headOf(report), head: report.head?.hash ?? null, firstTime: lineTime(report.firstLine), lastTime: lineTime(report.lastLine), breaks: report.breaks.length, files, metadata: metas.map((m) => ({ file: m.file, line: m.line, ...m.meta })), otherMetadata: Object.fromEntries(others), partial: report.partial }
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n')
  else process.stdout.write(formatInspect(report, files, metas, others))
  return report.verdict === 'BROKEN' ? EXIT_BROKEN : EXIT_OK
})

function sizeOf(file: string): number | null {
  if (file === '-') return null
  try {
    return fs.statSync(file).size
  } catch {
    return null
  }
}

function formatInspect(report: VerifyReport, files: FileInfo[], metas: MetaInfo[], others: Map<string, number>): string {
  const out: string[] = []
  const row = (label: string, value: string) => out.push(`${label.padEnd(11)}${value}`)
  row('chain', report.chain ?? '?')
  row('algorithm', report.algorithm ?? '?')
  const disk = files.reduce((n, f) => n + (f.size ?? f.bytes), 0)
  row('files', `${formatCount(files.length)} (${formatBytes(disk)} on disk)`)
  row('records', `${formatCount(report.records)} verified`)
  const t0 = lineTime(report.firstLine)
  const t1 = lineTime(report.lastLine)
  if (t0 || t1) row('time', `${t0 ?? '?'} → ${t1 ?? '?'}`)
  row('head', report.head ? `${report.head.hash} (record ${formatCount(report.head.count)} of the chain)` : 'none')
  // A recovered torn tail is VALID here: the recovery record is listed under metadata below.
  row('status', report.verdict !== 'BROKEN' ? 'VALID' : `BROKEN: ${plural(report.breaks.length, 'break')}, the first at ${report.breaks[0]!.file}:${report.breaks[0]!.line} (${report.breaks[0]!.reason}); run verify-log for details`)
  if (report.partial) row('in progress', `${report.partial.file}:${report.partial.line}: a partial last line of ${plural(report.partial.length, 'byte')}`)
  out.push('')
  const table = [['file', 'index', 'records', 'size', 'first time', 'last time', 'started']]
  for (const f of files) {
    table.push([f.path, f.index === null ? '?' : String(f.index), formatCount(f.records), f.size === null ? formatBytes(f.bytes) : formatBytes(f.size), f.firstTime ?? '-', f.lastTime ?? '-', `${f.startedAt ?? '-'}${f.reason ? ` (${f.reason})` : ''}`])
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)))
  const right = new Set([1, 2, 3])
  for (const r of table) out.push(r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
  out.push('')
  if (metas.length === 0) out.push('metadata   no retention, archive, recovery or truncation records')
  else {
    out.push('metadata')
    for (const m of metas) out.push(`  ${m.file}:${m.line}  ${m.meta.t.padEnd(9)}  ${describeMeta(m.meta)}`)
  }
  for (const [t, n] of others) out.push(`  ${plural(n, `${printable(t)} record`)}`)
  return out.join('\n') + '\n'
}

function describeMeta(m: RecordedMeta): string {
  if (m.t === 'truncation') {
    const had = m.expected ? `a writer left ${plural(Number(m.expected.lines), 'line')} (${formatBytes(Number(m.expected.size))}), found ${plural(Number(m.found?.lines), 'line')} (${formatBytes(Number(m.found?.size))})` : 'found empty with no writer on it'
    return `${printable(String(m.time))}: ${printable(String(m.file))} cut: ${had}; untrusted from line ${Number(m.at?.line)}`
  }
  if (m.t === 'archive') {
    const files = Array.isArray(m.files) ? m.files.map((d) => `${printable(String(d.file))} (${plural(d.records, 'line')}, last hash ${String(d.lastHash).slice(0, 16)}…)`).join(', ') : '?'
    return `${printable(String(m.time))}: archived to ${printable(String(m.to))}: ${files}`
  }
  if (m.t === 'retention') {
    const deleted = Array.isArray(m.deleted) ? m.deleted.map((d) => `${printable(String(d.file))} (index ${d.index}, ${plural(d.records, 'line')}, last hash ${String(d.lastHash).slice(0, 16)}…)`).join(', ') : '?'
    return `${printable(String(m.time))}: deleted ${deleted}`
  }
  if (m.reason === 'torn-tail') return `${printable(String(m.time))}: torn tail of ${plural(Number(m.length), 'byte')} terminated (sha256 ${String(m.sha256).slice(0, 16)}…)`
  return `${printable(String(m.time))}: ${printable(String(m.reason))}${m.file ? ` in ${printable(m.file)}` : ''}${m.detail ? `: ${printable(m.detail)}` : ''}`
}
