/**
 * The verifier's reading of a truncation record (FORMAT.md §7.1): a writer
 * found the file it appended to cut short, emptied, or ending in a record it
 * did not write, went on in a new file and said so there. The cut is a break
 * at the first line of the cut file the writer cannot vouch for, whatever the
 * file holds now: the records it lost are nowhere in the chain.
 */
import * as path from 'node:path'
import type { HeldLine } from './breaks'
import type { TruncationMeta } from './meta'
import type { Break } from './report'

/**
 * The break a truncation record `meta` stands for. `recordFile` and
 * `recordLine` are where the record was read; `files` are the files given so
 * far, to name the cut file as it was given (its name in the record otherwise,
 * next to the record's file).
 */
export function truncationBreak(meta: TruncationMeta, recordFile: string, recordLine: number, files: readonly string[]): Break {
  const name = typeof meta.file === 'string' ? meta.file : '?'
  const file = files.findLast((f) => path.basename(f) === name) ?? path.join(path.dirname(recordFile), name)
  const at = meta.at && Number.isInteger(meta.at.line) && meta.at.line > 0 ? meta.at : { line: 1, offset: 0 }
  const where = `${recordFile}:${recordLine}`
  const e = meta.expected
  const f = meta.found
  let message: string
  if (!e) message = `this file was emptied while no writer had it open (no writer leaves a file of the log empty; logrotate's copytruncate does this); what it held is not in the chain (recorded at ${where})`
  else if (f && f.size < e.size) message = `this file was cut short while a writer was appending to it: the writer had left ${e.lines} lines (${e.size} bytes) and found ${f.lines} (${f.size} bytes)${f.size === 0 ? ", emptied (logrotate's copytruncate does this)" : ''}; line ${at.line} on is not in the chain (recorded at ${where})`
  else message = `the record a writer had left as line ${e.lines} of this file is not there any more: the file was cut and written again (the writer found ${f?.lines ?? '?'} lines, ${f?.size ?? '?'} bytes; recorded at ${where})`
  const brk: Break = { file, line: at.line, offset: typeof at.offset === 'number' ? at.offset : 0, reason: 'TRUNCATED', message }
  if (e && typeof e.hash === 'string') brk.expected = e.hash
  if (f && typeof f.hash === 'string') brk.found = f.hash
  return brk
}

/**
 * Whether the break held at the header just before the truncation record
 * (`prev` is the record's link) is the one the cut explains: that header
 * continues from the writer's own last head, which the cut file no longer
 * ends with. Then that break is the cut, reported once.
 */
export function explainsHeld(meta: TruncationMeta, prev: string, held: HeldLine): boolean {
  return held.brk.line === 1 && held.foundHash === prev && meta.expected !== null && typeof meta.expected === 'object' && held.brk.found === meta.expected.hash
}
