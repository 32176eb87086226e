/**
 * A checkpoint judged against shipped chains (issue #15): a head kept
 * elsewhere (`chainlog head`) says where a chain must reach, so records lost
 * at a chain's end, which no link in the input can show, are found and, from
 * the checkpoint's count and the chain's positions, counted.
 */
import type { Finding, Placed, RebuiltChain } from './shipped-chains'
import type { ShippedCheckpoint } from './shipped-report'

/** The verdict on a checkpoint, with the chain it was judged against. */
export interface CheckpointOutcome {
  result: ShippedCheckpoint
  chain: RebuiltChain | null
}

/**
 * Judges `checkpoint` against the rebuilt chains and adds its finding, if
 * any, to the chain it is about. `holder` is the record whose hash is the
 * head's (-1: none in the input), `placed` where the rebuild found it, and
 * `nth(run first, k)` the record k links after a run's first.
 */
export function judgeCheckpoint(checkpoint: { hash: string; count?: number }, holder: number, placed: (i: number) => Placed, chains: RebuiltChain[], nth: (first: number, k: number) => number): CheckpointOutcome {
  const count = checkpoint.count ?? null
  const base = { hash: checkpoint.hash, count }
  const place = holder === -1 ? null : placed(holder)
  if (place) {
    const chain = chains.find((c) => c.chain === place.run.chain) ?? null
    const foundAt = place.run.offset === null ? null : place.run.offset + place.k + 1
    if (count !== null && foundAt !== null && foundAt !== count) {
      const message = `the expected head hash is record ${foundAt} of the chain, not record ${count}: records were added or removed before it`
      chain?.findings.push({ reason: 'HEAD_ELSEWHERE', message, subject: { record: holder }, order: Infinity })
      return { chain, result: { ...base, chain: chain?.chain ?? null, reached: false, foundAt, missing: null, reason: 'HEAD_ELSEWHERE', message } }
    }
    return { chain, result: { ...base, chain: chain?.chain ?? null, reached: true, foundAt, missing: null, reason: null, message: null } }
  }
  // No record has the head's hash. With one chain in the input it is that chain's head; with several, nothing tells whose.
  if (chains.length !== 1) {
    const message = `no chain in the input holds the expected head hash ${checkpoint.hash}: a chain lost its end (which one, the checkpoint does not say), or the head is of another log`
    return { chain: null, result: { ...base, chain: null, reached: false, foundAt: null, missing: null, reason: 'HEAD_MISSING', message } }
  }
  const chain = chains[0]!
  const last = chain.runs.at(-1)
  if (!last) {
    const message = 'the chain has no record in the input'
    return { chain, result: { ...base, chain: chain.chain, reached: false, foundAt: null, missing: count, reason: 'HEAD_MISSING', message } }
  }
  const length = last.offset === null ? null : last.offset + last.length
  let finding: Omit<Finding, 'order'>
  if (count !== null && length !== null && length < count) {
    const missing = count - length
    finding = { reason: 'HEAD_MISSING', message: `the chain ends at record ${length}, before the expected head at record ${count}: its last ${missing} record${missing === 1 ? ' is' : 's are'} not in the input`, subject: { record: last.last }, after: last.last, before: null, missing }
  } else if (count !== null && length !== null) {
    // The chain goes past the head's position: a record there with another hash is a rewrite; none there, a gap the chain's GAP names.
    const run = chain.runs.find((r) => r.offset !== null && r.offset < count && count <= r.offset + r.length)
    finding = run
      ? { reason: 'HEAD_REWRITTEN', message: `record ${count} of the chain is not the expected head ${checkpoint.hash}: the chain was rewritten`, subject: { record: nth(run.first, count - 1 - run.offset!) } }
      : { reason: 'HEAD_MISSING', message: `the expected head, record ${count} of the chain, falls in a gap of the input: it is not here, though records after it are`, subject: { record: last.last }, missing: 0 }
  } else {
    finding = { reason: 'HEAD_MISSING', message: `no record of the chain has the expected head hash ${checkpoint.hash}: records are missing at its end (how many, ${count === null ? 'the head gives no count' : 'no header or seal tells'}), or the chain was rewritten`, subject: { record: last.last }, after: last.last, before: null, missing: null }
  }
  chain.findings.push({ ...finding, order: Infinity })
  return { chain, result: { ...base, chain: chain.chain, reached: false, foundAt: null, missing: finding.missing ?? null, reason: finding.reason, message: finding.message } }
}
