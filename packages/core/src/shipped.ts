/**
 * Verifying lines pulled back from a central store (issue #15): in any
 * order, wrapped in any envelope {@link EnvelopeReader} knows, from any
 * number of chains. Records carry their own `prev`, so the chain order is
 * rebuilt from the links themselves, with an index of about 55 bytes per
 * record and never the records in memory.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChainlogError, ErrorCodes, pathError } from './errors'
import type { Finding, RebuiltChain, Run } from './shipped-chains'
import { recordTime } from './record-time'
import { rebuild } from './shipped-chains'
import { judgeCheckpoint, type CheckpointOutcome } from './shipped-checkpoint'
import { keyOf } from './shipped-index'
import { readShipped, tempDir, type ReadPass } from './shipped-read'
import { fetchLines, placeOf } from './shipped-refetch'
import { LOSS_REASONS, type ShippedChain, type ShippedOptions, type ShippedProblem, type ShippedRecord, type ShippedReport, type ShippedVerdict } from './shipped-report'

const LIMIT = 1000
const TEXT = 200

/**
 * Verifies shipped lines: files (plain or `.gz`), directories (every file in
 * them), or one readable stream (stdin). The report has one entry per chain,
 * each with its verdict: VALID (complete from its first header to its last
 * record), INCOMPLETE (gaps or cut records: a shipper's losses) or BROKEN
 * (tampering: edited, rewritten or forked records, or headers that disagree).
 *
 * @example
 * const report = await verifyShipped(['loki-export.jsonl'])
 * for (const c of report.chains) console.log(c.chain, c.verdict, c.records, c.problems)
 * @throws ChainlogError NO_INPUT, ACCESS_DENIED, IO_ERROR, KEY_REQUIRED, KEY_MISMATCH, INVALID_OPTION
 */
export async function verifyShipped(input: string[] | NodeJS.ReadableStream, options: ShippedOptions = {}): Promise<ShippedReport> {
  if (options.field !== undefined && (options.field === '' || options.field.split('.').some((k) => k === ''))) {
    throw new ChainlogError(ErrorCodes.INVALID_OPTION, `field must be a dotted path of member names (message, _source.log); got ${JSON.stringify(options.field)}`)
  }
  const inputs = Array.isArray(input) ? resolve(input) : [input]
  const tmp = tempDir()
  try {
    const pass = await readShipped(inputs, options, tmp.get)
    if (pass.index.size === 0 && pass.fragments.length === 0) {
      throw new ChainlogError(ErrorCodes.NO_INPUT, `no chainlog record in ${pass.lines} line${pass.lines === 1 ? '' : 's'} of ${pass.sources.map((s) => s.name).join(', ')}: not a log of chainlog records, or the envelope holds them in another member (give it with --field)`)
    }
    const links = pass.index.link()
    const timesOf = async (ordinals: number[]) => {
      const text = await fetchLines(pass.sources, ordinals, options.field)
      const out = new Map<number, number>()
      for (const [o, t] of text) {
        const ms = recordTime(t.slice(65, -65))
        if (typeof ms === 'number') out.set(o, ms)
      }
      return out
    }
    const cp = options.checkpoint
    if (cp !== undefined && (!/^[0-9a-f]{64}$/.test(cp.hash) || (cp.count !== undefined && !(Number.isSafeInteger(cp.count) && cp.count >= 0)))) {
      throw new ChainlogError(ErrorCodes.INVALID_OPTION, `checkpoint must be {"hash": "<64 lowercase hex>", "count": <whole number>}; got ${JSON.stringify(cp)}`)
    }
    // The record holding the checkpoint's head, found on its first 128 bits as every link is.
    const holder = cp ? pass.index.findMany([keyOf(cp.hash)])[0]! : -1
    const { chains, loose, placed } = await rebuild(pass, links, options.key, timesOf, holder === -1 ? [] : [holder])
    const nth = (first: number, k: number) => {
      let j = first
      for (let step = 0; step < k; step++) j = links.succ[j]!
      return j
    }
    const outcome = cp ? judgeCheckpoint(cp, holder, placed, chains, nth) : null
    return await report(pass, chains, loose, options, outcome)
  } finally {
    tmp.remove()
  }
}

/** Paths to the files they name: a directory gives its files, by name. */
function resolve(paths: string[]): string[] {
  if (paths.length === 0) throw new ChainlogError(ErrorCodes.NO_INPUT, 'no input given')
  const out: string[] = []
  for (const p of paths) {
    let stat: fs.Stats
    try {
      stat = fs.statSync(p)
    } catch (err) {
      throw pathError(err, `cannot read ${p}`, p, { ENOENT: { code: ErrorCodes.NO_INPUT, words: 'no such file or directory' } })
    }
    if (!stat.isDirectory()) out.push(p)
    else {
      for (const name of fs.readdirSync(p).sort()) {
        const f = path.join(p, name)
        if (fs.statSync(f).isFile()) out.push(f)
      }
    }
  }
  return out
}

async function report(pass: ReadPass, chains: RebuiltChain[], loose: Finding[], options: ShippedOptions, outcome: CheckpointOutcome | null): Promise<ShippedReport> {
  const limit = options.limit ?? LIMIT
  const { index } = pass
  // The records a report names, read back from the inputs once.
  const wanted = new Set<number>()
  const want = (i: number | null | undefined) => {
    if (i !== null && i !== undefined) wanted.add(index.ordinal(i))
  }
  const keep = (c: RebuiltChain) => ({ runs: c.runs.slice(0, limit), findings: c.findings.slice(0, limit) })
  for (const c of chains) {
    const { runs, findings } = keep(c)
    for (const r of runs) want(r.first), want(r.last)
    want(c.runs.at(-1)?.last)
    for (const f of findings) {
      if ('record' in f.subject) want(f.subject.record)
      else wanted.add(f.subject.ordinal)
      want(f.after), want(f.before)
      f.records?.forEach(want)
    }
  }
  for (const f of loose.slice(0, limit)) if ('ordinal' in f.subject) wanted.add(f.subject.ordinal)
  const text = await fetchLines(pass.sources, wanted, options.field)
  const positions = new Map<number, number>()
  for (const c of chains) for (const r of c.runs) if (r.offset !== null) positions.set(r.first, r.offset), positions.set(r.last, r.offset + r.length - 1)
  const record = (i: number): ShippedRecord => {
    const o = index.ordinal(i)
    const { source, line } = placeOf(pass.sources, o)
    const t = text.get(o) ?? ''
    return { file: source.name, line, position: positions.get(i) ?? null, hash: t.slice(-64) }
  }
  const problem = (f: Finding): ShippedProblem => {
    const o = 'record' in f.subject ? index.ordinal(f.subject.record) : f.subject.ordinal
    const { source, line } = placeOf(pass.sources, o)
    const t = text.get(o)
    return {
      reason: f.reason,
      message: f.message,
      file: source.name,
      line,
      ...(f.after !== undefined && { after: f.after === null ? null : record(f.after) }),
      ...(f.before !== undefined && { before: f.before === null ? null : record(f.before) }),
      ...(f.missing !== undefined && { missing: f.missing === null || !Number.isFinite(f.missing) ? null : f.missing }),
      ...(f.records && { records: f.records.map(record) }),
      ...(t !== undefined && { text: t.length > TEXT ? t.slice(0, TEXT) + '…' : t }),
    }
  }
  const stored = (i: number | undefined) => {
    if (i === undefined) return null
    const t = text.get(index.ordinal(i))
    return t === undefined ? null : t.slice(65, -65)
  }
  const out: ShippedChain[] = chains.map((c) => {
    const { runs, findings } = keep(c)
    const last = c.runs.at(-1)
    const verdict: ShippedVerdict = c.findings.length === 0 ? 'VALID' : c.findings.every((f) => LOSS_REASONS.has(f.reason)) ? 'INCOMPLETE' : 'BROKEN'
    return {
      chain: c.chain,
      algorithm: c.algorithm,
      verdict,
      records: c.records,
      duplicates: c.duplicates,
      runs: runs.map((r: Run) => ({ first: record(r.first), last: record(r.last), records: r.length })),
      firstLine: stored(c.runs[0]?.first),
      lastLine: stored(last?.last),
      head: last ? { hash: record(last.last).hash, count: last.offset === null ? null : last.offset + last.length } : null,
      problems: findings.map(problem),
      problemCount: c.findings.length,
      recovered: c.recovered,
      ...(outcome?.chain === c && { reachesHead: outcome.result.reached }),
    }
  })
  if (loose.length) {
    out.push({ chain: null, algorithm: null, verdict: 'INCOMPLETE', records: 0, duplicates: 0, runs: [], firstLine: null, lastLine: null, head: null, problems: loose.slice(0, limit).map(problem), problemCount: loose.length, recovered: 0 })
  }
  out.sort((a, b) => (a.chain === null ? 1 : 0) - (b.chain === null ? 1 : 0) || (a.firstLine ?? '').localeCompare(b.firstLine ?? ''))
  const rank = { VALID: 0, INCOMPLETE: 1, BROKEN: 2 } as const
  let verdict = out.reduce<ShippedVerdict>((v, c) => (rank[c.verdict] > rank[v] ? c.verdict : v), 'VALID')
  // A head no chain holds, with several chains: no chain's verdict carries it, the report's does.
  if (outcome && outcome.chain === null && !outcome.result.reached && verdict === 'VALID') verdict = 'INCOMPLETE'
  const duplicates = out.reduce((s, c) => s + c.duplicates, 0)
  return {
    ok: verdict === 'VALID' && out.length > 0,
    verdict,
    inputs: pass.sources.map((s) => s.name),
    lines: pass.lines,
    records: out.reduce((s, c) => s + c.records, 0),
    duplicates,
    skipped: pass.skipped,
    envelopes: pass.envelopes,
    chains: out,
    ...(outcome && { checkpoint: outcome.result }),
  }
}
