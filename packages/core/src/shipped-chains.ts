/**
 * Rebuilding chains from the links of shipped records (issue #15): runs of
 * records that follow each other, put in chain order by the positions that
 * header `seq` values and seal counts give, then judged: gaps (and how many
 * records each misses, where positions tell), forks, cuts, records that fail
 * their own hash, and the header rules of docs/FORMAT.md §5, applied by the
 * same {@link HeaderRules} as the file verifier, in chain order.
 */
import type { Algorithm } from './algorithm'
import { HeaderRules } from './header-rules'
import { isHeader, type DeletedFile, type HeaderMeta, type Meta, type RecoveryMeta, type UnknownMeta } from './meta'
import type { SealMeta } from './seal'
import { Flag, type Links } from './shipped-index'
import type { Fragment, ReadPass } from './shipped-read'
import type { ShippedReason } from './shipped-report'
import { walkRuns, type RunVisitor } from './shipped-walk'

/** A run of linked records: from a record with no predecessor in the input (or a fork's second child) along its first children. */
export interface Run {
  first: number
  last: number
  length: number
  /** Position of `first` in the chain, when a header, a seal or the genesis value tells. */
  offset: number | null
  chain: string | null
  /** For a fork's branch: the record it branches from. */
  parent: number
  /** Metadata records in the run, with their distance from `first`. */
  meta: Array<{ k: number; i: number; meta: Meta | UnknownMeta }>
  duplicates: number
  /** Records that fail on their own, or verify under an algorithm that is not their chain's. */
  bad: number[]
  alien: number[]
  /** Distances from `first` of records others need to place (fork parents, the records cuts follow). */
  at: Map<number, number>
  problems: Finding[]
}

/** A problem before its records are read back for the report. */
export interface Finding {
  reason: ShippedReason
  message: string
  /** The record it is about (a record number), or a fragment's ordinal. */
  subject: { record: number } | { ordinal: number }
  after?: number | null
  before?: number | null
  missing?: number | null
  records?: number[]
  /** Chain position used to sort the problems of a chain. */
  order: number
}

/** A chain as rebuilt: its runs in chain order and its findings. */
export interface RebuiltChain {
  chain: string | null
  algorithm: Algorithm | null
  runs: Run[]
  records: number
  duplicates: number
  findings: Finding[]
  recovered: number
}

const sameKey = (a: Uint32Array, b: Uint32Array) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]

/**
 * The times of records, by ordinal, read back from the input: what orders the
 * runs no header or seal places (a run between two gaps within one file).
 */
export type TimesOf = (ordinals: number[]) => Promise<Map<number, number>>

/** Where a record was found in the rebuilt chains: its run and its distance from the run's first record. */
export type Placed = { run: Run; k: number } | null

/**
 * Walks every run, groups the runs into chains and judges each chain.
 * `watch` names records whose place the caller wants (a checkpoint's head): `placed` gives it.
 */
export async function rebuild(pass: ReadPass, links: Links, key: Uint8Array | undefined, timesOf: TimesOf, watch: number[] = []): Promise<{ chains: RebuiltChain[]; loose: Finding[]; placed: (i: number) => Placed }> {
  const { index } = pass
  const { succ, forks } = links
  const n = index.size
  const branchOf = new Map<number, number>(forks.map(([p, c]) => [c, p]))
  // Records others must be placed by: fork parents, and the records a cut start follows.
  const needed = new Map<number, Run>()
  for (const [p] of forks) needed.set(p, null as unknown as Run)
  for (const w of watch) needed.set(w, null as unknown as Run)
  const cutAfter = new Map<number, Fragment[]>()
  const cutEnds: Fragment[] = []
  const loose: Finding[] = []
  const starts = pass.fragments.filter((f) => f.kind === 'cut-start')
  const shadowed = pass.bad.filter((b) => index.flags(b.index) & Flag.SHADOWED)
  const found = index.findMany([...starts.map((f) => f.key), ...shadowed.map((b) => index.key(b.index, 0))])
  const parentOf = new Map<object, number>([...starts, ...shadowed].map((x, n) => [x, found[n]!]))
  for (const f of pass.fragments) {
    if (f.kind === 'cut-end') {
      cutEnds.push(f)
      continue
    }
    const p = parentOf.get(f)!
    if (p === -1) {
      loose.push({ reason: 'CUT', message: 'the start of a record without its end, cut by a shipper; the record before it is not in the input either', subject: { ordinal: f.ordinal }, order: 0 })
      continue
    }
    if (!cutAfter.has(p)) cutAfter.set(p, [])
    cutAfter.get(p)!.push(f)
    needed.set(p, null as unknown as Run)
  }
  for (const b of shadowed) {
    const p = parentOf.get(b)!
    if (p !== -1) needed.set(p, null as unknown as Run)
  }
  const hmac = pass.algorithms.indexOf('hmac-sha256')
  // Records the walk needs nothing of but their link: no metadata, no fault, no copies, and one algorithm
  // in the whole input (so that none can be alien). In a bit set in index order (n/8 bytes, in cache), as
  // are the records walked: a step then costs one memory access (its link), not two.
  const plain = new Int32Array((n >>> 5) + 1)
  if (pass.algorithms.length === 1) {
    for (let i = 0; i < n; i++) if ((index.state(i) & (0xffff0000 | Flag.META | Flag.BAD)) === 0) plain[i >>> 5]! |= 1 << (i & 31)
  }
  /** The algorithm of the walked run's last header (the key's with a key), which its records must verify under; -1 for any. */
  let governing = -1
  /** What a record that is not plain adds to its run: metadata (a place, a chain id, the governing algorithm), a fault, copies. */
  const step = (run: Run, j: number, k: number) => {
    const state = index.state(j)
    run.duplicates += state >>> 16 === 0xffff ? index.duplicates(j) : state >>> 16
    const f = state & 0xff
    if (f & Flag.META) {
      const meta = pass.meta.get(j)!
      run.meta.push({ k, i: j, meta })
      const place = placeOf(meta)
      if (place) {
        if (run.chain === null && typeof place.chain === 'string') run.chain = place.chain
        if (run.offset === null && typeof place.position === 'number') run.offset = place.position - k
        else if (meta.t === 'seal' && run.offset !== null && place.position !== run.offset + k) {
          run.problems.push({ reason: 'SEAL_MISPLACED', message: `the seal was made at chain position ${place.position}, it sits at ${run.offset + k}: records were added or removed before it, or it was copied here`, subject: { record: j }, order: run.offset + k })
        }
      }
      if (isHeader(meta) && !key) governing = pass.algorithms.indexOf(meta.alg)
    }
    if (f & Flag.BAD) run.bad.push(j)
    else if (governing !== -1 && ((state >>> 8) & 0xff) !== governing) run.alien.push(j)
  }
  const visitor: RunVisitor<Run> = {
    open: (start) => {
      governing = key ? hmac : -1
      return { first: start, last: start, length: 0, offset: index.flags(start) & Flag.GENESIS ? 0 : null, chain: null, parent: branchOf.get(start) ?? -1, meta: [], duplicates: 0, bad: [], alien: [], at: new Map(), problems: [] }
    },
    visit: (run, j, k) => {
      if ((plain[j >>> 5]! & (1 << (j & 31))) === 0) step(run, j, k)
      if (needed.has(j)) {
        run.at.set(j, k)
        needed.set(j, run)
      }
    },
    close: (run, last, length) => {
      run.last = last
      run.length = length
    },
  }
  // A run starts at each record no other record links to: one whose predecessor is not in the input, or a fork's second child.
  const gone = (i: number) => (index.flags(i) & (Flag.DUP | Flag.SHADOWED)) !== 0
  const heads: number[] = []
  let live = 0
  for (let i = 0; i < n; i++) {
    const f = index.flags(i)
    if (f & (Flag.DUP | Flag.SHADOWED)) continue
    live++
    if (!(f & Flag.LINKED) || (branchOf.size > 0 && branchOf.has(i))) heads.push(i)
  }
  const runs = walkRuns({ index, succ, plain, needed, gone }, heads, live, visitor)

  // Each run into its chain: by its own headers or seals, a branch by its parent's, the rest into the only chain if there is one.
  const ids = new Set(runs.map((r) => r.chain).filter((c) => c !== null))
  const only = ids.size === 1 ? [...ids][0]! : null
  const byChain = new Map<string | null, { main: Run[]; branches: Run[] }>()
  for (const run of runs) {
    if (run.parent !== -1) {
      const from = needed.get(run.parent)!
      run.chain ??= from.chain
      if (run.offset === null && from.offset !== null) run.offset = from.offset + from.at.get(run.parent)! + 1
    }
    const id = run.chain ?? only
    run.chain = id
    if (!byChain.has(id)) byChain.set(id, { main: [], branches: [] })
    const group = byChain.get(id)!
    ;(run.parent === -1 ? group.main : group.branches).push(run)
  }
  const chains: RebuiltChain[] = []
  for (const [id, group] of byChain) {
    await order(group.main, pass, timesOf, (record) => (cutAfter.get(record)?.length ?? 0) > 0)
    chains.push(judge(id, group.main, group.branches, pass, succ, key, cutAfter, cutEnds, needed, parentOf))
  }
  // Cut ends that explain no gap.
  for (const f of cutEnds) {
    if (!(f as Fragment & { used?: boolean }).used) loose.push({ reason: 'CUT', message: 'the end of a record without its start: the rest of a line a shipper cut', subject: { ordinal: f.ordinal }, order: 0 })
  }
  const placed = (i: number): Placed => {
    const run = needed.get(i)
    return run ? { run, k: run.at.get(i)! } : null
  }
  return { chains, loose, placed }
}

/** Where a metadata record says it is: a header's seq, a seal's count, with the chain id. */
function placeOf(meta: Meta | UnknownMeta): { chain: unknown; position: unknown } | null {
  if (meta.t === 'header') return { chain: (meta as HeaderMeta).chain, position: (meta as HeaderMeta).seq }
  if (meta.t === 'seal') return { chain: (meta as SealMeta).chain, position: (meta as SealMeta).count }
  return null
}

/** Runs beyond which the ones no position places are ordered by arrival instead of by time. */
const TIMED_RUNS = 10_000

/**
 * Puts a chain's runs in chain order: the runs that headers or seals place,
 * by position; each run that nothing places (one between two gaps inside a
 * file has no header) after the placed run whose last record is the latest
 * not later than its first record, by the records' own times, or by arrival
 * when they carry none.
 */
/**
 * Puts a chain's runs in chain order: those whose position headers or seals
 * tell by it, and each of the others into a slot between two of them. A slot
 * is only where the run fits (the positions around it leave room for its
 * records); a slot after a run that a cut record follows comes first, since a
 * run whose first link cannot be checked is most often the one after a cut
 * (its `prev` is the hash of a record whose end a shipper dropped); then
 * time, and arrival for records of the same millisecond.
 */
async function order(main: Run[], pass: ReadPass, timesOf: TimesOf, cutFollows: (record: number) => boolean): Promise<void> {
  const { index } = pass
  const placed = main.filter((r) => r.offset !== null).sort((a, b) => a.offset! - b.offset!)
  const loose = main.filter((r) => r.offset === null)
  if (loose.length === 0) {
    main.splice(0, main.length, ...placed)
    return
  }
  const times = main.length <= TIMED_RUNS ? await timesOf(main.flatMap((r) => [index.ordinal(r.first), index.ordinal(r.last)])) : new Map<number, number>()
  const timed = (i: number) => times.get(index.ordinal(i))
  const byTime = loose.every((r) => timed(r.first) !== undefined) && placed.every((r) => timed(r.last) !== undefined)
  // Records logged in the same millisecond are told apart by arrival.
  const time = (i: number) => (byTime ? timed(i)! : 0)
  const before = (a: number, b: number) => time(a) < time(b) || (time(a) === time(b) && index.ordinal(a) < index.ordinal(b))
  loose.sort((a, b) => (before(a.first, b.first) ? -1 : 1))
  // Slot k >= 0 follows placed[k]; slot -1 leads. Room: the records the positions leave free there (Infinity after the last).
  const slots: Run[][] = placed.map(() => [])
  const lead: Run[] = []
  const slotOf = (k: number) => (k === -1 ? lead : slots[k]!)
  const room = (k: number) => {
    const start = k === -1 ? 0 : placed[k]!.offset! + placed[k]!.length
    const end = k + 1 < placed.length ? placed[k + 1]!.offset! : Infinity
    return end - start - slotOf(k).reduce((n, r) => n + r.length, 0)
  }
  const tail = (k: number) => {
    const list = slotOf(k)
    return list.length ? list[list.length - 1]!.last : k === -1 ? null : placed[k]!.last
  }
  for (const r of loose) {
    const all = [-1, ...placed.map((_, k) => k)]
    const fits = all.filter((k) => room(k) >= r.length)
    const afterCut = fits.filter((k) => {
      const t = tail(k)
      return t !== null && cutFollows(t)
    })
    const candidates = afterCut.length ? afterCut : fits.length ? fits : all
    let slot = candidates[0]!
    for (const k of candidates) if (k >= 0 && before(placed[k]!.last, r.first)) slot = k
    slotOf(slot).push(r)
  }
  main.splice(0, main.length, ...lead, ...placed.flatMap((p, k) => [p, ...slots[k]!]))
}

function judge(id: string | null, main: Run[], branches: Run[], pass: ReadPass, succ: Int32Array, key: Uint8Array | undefined, cutAfter: Map<number, Fragment[]>, cutEnds: Fragment[], needed: Map<number, Run>, parentOf: Map<object, number>): RebuiltChain {
  const { index } = pass
  const badOf = new Map(pass.bad.map((b) => [b.index, b]))
  const findings: Finding[] = []
  let recovered = 0
  const torn: RecoveryMeta[] = []
  for (const run of main) for (const m of run.meta) if (m.meta.t === 'recovery' && (m.meta as RecoveryMeta).reason === 'torn-tail') torn.push(m.meta as RecoveryMeta)
  const pos = (run: Run, k: number) => (run.offset === null ? Infinity : run.offset + k)
  // A cut start follows record p: unless a writer's recovery record names it as a torn line, it is a cut.
  const cutsAfter = (p: number): Fragment[] => {
    const list = cutAfter.get(p) ?? []
    const cuts = list.filter((f) => !torn.some((t) => t.length === f.length && t.sha256 === f.sha256))
    recovered += list.length - cuts.length
    cutAfter.delete(p)
    return cuts
  }
  const cutEndBefore = (b: number): Fragment | undefined => {
    const prev = index.key(b, 0)
    const f = cutEnds.find((c) => sameKey(c.key, prev))
    if (f) (f as Fragment & { used?: boolean }).used = true
    return f
  }
  // The header rules, in chain order.
  const rules = new HeaderRules(key)
  const retention: DeletedFile[] = []
  main.forEach((run, r) => {
    const before = main[r - 1]
    // Between two runs (or before the first): a gap, a cut, or a rewritten record.
    const startsChain = index.flags(run.first) & Flag.GENESIS
    if (r > 0 || !startsChain) {
      const after = before ? before.last : null
      const missing = before && before.offset !== null && run.offset !== null ? run.offset - (before.offset + before.length) : r === 0 ? run.offset : null
      const cuts = after !== null ? cutsAfter(after) : []
      const cutEnd = cutEndBefore(run.first)
      const first = run.meta[0]
      const retained = r === 0 && first?.k === 0 && isHeader(first.meta) && first.meta.index > 0
      if (cuts.length || cutEnd) {
        const f = cuts[0] ?? cutEnd!
        findings.push({ reason: 'CUT', message: `a record was cut by a shipper (a line limit): ${f.kind === 'cut-start' ? 'its start' : 'its end'} arrived alone, ${f.length} bytes`, subject: { ordinal: f.ordinal }, after, before: run.first, missing, order: 2 * r })
      } else if (before && missing !== null && missing <= 0) {
        findings.push({ reason: 'PREV_MISMATCH', message: `the record at chain position ${pos(run, 0)} does not link to the record before it, though headers and seals show no record missing: a record was rewritten or inserted`, subject: { record: run.first }, after, before: run.first, missing: 0, order: 2 * r })
      } else if (!retained) {
        findings.push(r === 0
          ? { reason: 'START_MISSING', message: missing === null ? "the chain's first records are not in the input" : `the chain's first ${missing} records are not in the input`, subject: { record: run.first }, after: null, before: run.first, missing, order: -1 }
          : { reason: 'GAP', message: missing === null ? 'records are missing here (how many, no header or seal tells)' : `${missing} record${missing === 1 ? ' is' : 's are'} missing here`, subject: { record: run.first }, after, before: run.first, missing, order: 2 * r })
      }
    }
    for (const m of run.meta) {
      const position = pos(run, m.k)
      if (isHeader(m.meta)) {
        const h = m.meta
        const linked = m.k > 0 || (r === 0 && startsChain !== 0)
        const prev = pass.headerPrevMismatch.get(m.i) ?? h.prevHash
        const outcome = rules.check(h, prev, linked ? prev : r === 0 && m.k === 0 ? null : 'a gap', Number.isFinite(position) ? position : h.seq, at(pass, m.i))
        if (outcome.problem) findings.push({ reason: outcome.problem.reason === 'MISSING_FILE' ? 'START_MISSING' : (outcome.problem.reason as ShippedReason), message: outcome.problem.message, subject: { record: m.i }, order: 2 * r + 1 })
        if (linked) rules.linked(h)
        else rules.missingBefore(h)
      } else if (m.meta.t === 'retention' && Array.isArray((m.meta as { deleted?: unknown }).deleted)) {
        retention.push(...(m.meta as { deleted: DeletedFile[] }).deleted)
        rules.retention((m.meta as { deleted: DeletedFile[] }).deleted)
      }
    }
    for (const b of run.bad) {
      const bad = badOf.get(b)!
      findings.push({ reason: bad.reason, message: bad.message, subject: { record: b }, order: 2 * r + 1 })
    }
    for (const a of run.alien) {
      findings.push({ reason: 'HASH_MISMATCH', message: `the record verifies only under ${pass.algorithms[index.alg(a)]}, not under its chain's ${key ? 'hmac-sha256 (with the key given)' : 'algorithm'}: it was recomputed without the chain's key`, subject: { record: a }, order: 2 * r + 1 })
    }
    for (const p of run.problems) findings.push({ ...p, order: 2 * r + 1 })
  })
  // The start: a chain whose first file is not index 0 needs a retention record for the files before it.
  const startGap = rules.takeStartGap()?.brk ?? null
  const first = main[0]
  if (startGap && first) {
    findings.push({ reason: 'START_MISSING', message: startGap.message, subject: { record: first.first }, after: null, before: first.first, missing: first.offset, order: -1 })
  }
  const tail = main.at(-1)
  if (tail) {
    const cuts = cutsAfter(tail.last)
    if (cuts.length) findings.push({ reason: 'CUT', message: `the chain's last record was cut by a shipper (a line limit): its start arrived alone, ${cuts[0]!.length} bytes`, subject: { ordinal: cuts[0]!.ordinal }, after: tail.last, before: null, order: Infinity })
  }
  // Cuts after records inside a run: another copy came whole (or the cut is of a fork); still named.
  for (const [p, list] of cutAfter) {
    if (needed.get(p)?.chain !== id) continue
    for (const f of list.filter((f) => !torn.some((t) => t.length === f.length && t.sha256 === f.sha256))) findings.push({ reason: 'CUT', message: `a copy of a record was cut by a shipper (a line limit): its start arrived alone, ${f.length} bytes`, subject: { ordinal: f.ordinal }, after: p, order: 0 })
    cutAfter.delete(p)
  }
  for (const br of branches) {
    const parent = br.parent
    findings.push({ reason: 'FORK', message: `two different records follow the same record: the chain was forked (a ${br.length}-record branch)`, subject: { record: br.first }, after: parent, records: [succ[parent]!, br.first], order: Number.MAX_SAFE_INTEGER })
    for (const b of br.bad) findings.push({ reason: badOf.get(b)!.reason, message: badOf.get(b)!.message, subject: { record: b }, order: Number.MAX_SAFE_INTEGER })
  }
  // Altered copies of records that also came whole.
  for (const b of pass.bad) {
    if (!(index.flags(b.index) & Flag.SHADOWED)) continue
    const p = parentOf.get(b)!
    if ((p === -1 ? null : needed.get(p)?.chain) !== id && !(p === -1 && id === null)) continue
    findings.push({ reason: b.reason, message: `${b.message} (a copy of this record also arrived unaltered)`, subject: { record: b.index }, order: 0 })
  }
  findings.sort((a, b) => a.order - b.order)
  const headerMeta = main.flatMap((r) => r.meta).find((m) => isHeader(m.meta))?.meta as HeaderMeta | undefined
  return {
    chain: id,
    algorithm: rules.alg ?? (headerMeta?.alg ?? null),
    runs: main,
    records: [...main, ...branches].reduce((s, r) => s + r.length, 0),
    duplicates: [...main, ...branches].reduce((s, r) => s + r.duplicates, 0),
    findings,
    recovered,
  }
}

/** A record's input file and line, for messages. */
function at(pass: ReadPass, i: number): string {
  const ordinal = pass.index.ordinal(i)
  let s = pass.sources.length - 1
  while (s > 0 && pass.sources[s]!.first > ordinal) s--
  return `${pass.sources[s]!.name}:${ordinal - pass.sources[s]!.first + 1}`
}

