// Checks for the many-writers tests: every writer's lines present, once, in order.
import { verify, type VerifyReport } from '@chainlog/core'

/** Scale for stress counts: CHAINLOG_STRESS_SCALE=10 for the soak run. */
export const SCALE = Number(process.env.CHAINLOG_STRESS_SCALE ?? '1')

/**
 * Verifies a log and collects its user lines per writer, so a test can check
 * that each writer's lines arrive complete and in order. Lines are JSON with
 * `w` (writer id) and `i` (sequence); other lines are collected in `other`.
 */
export async function collect(base: string): Promise<{ report: VerifyReport; perWriter: Map<string, number[]>; other: string[] }> {
  const perWriter = new Map<string, number[]>()
  const other: string[] = []
  const report = await verify(base, {
    all: true,
    onLine: (line) => {
      let rec: { w?: unknown; i?: unknown } | null = null
      try {
        rec = JSON.parse(line)
      } catch {
        rec = null
      }
      if (rec && typeof rec.w === 'string' && typeof rec.i === 'number') {
        const list = perWriter.get(rec.w) ?? []
        list.push(rec.i)
        perWriter.set(rec.w, list)
      } else other.push(line)
    },
  })
  return { report, perWriter, other }
}

/** True when `seq` is exactly 0..n-1 in order. */
export function isSequence(seq: number[] | undefined, n: number): boolean {
  if (!seq || seq.length !== n) return false
  for (let i = 0; i < n; i++) if (seq[i] !== i) return false
  return true
}
