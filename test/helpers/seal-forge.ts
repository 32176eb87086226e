// The attacker's tools for test/seal-attacks.test.ts. They work on the files
// the way someone with write access to the log (and, where a test says so, a
// copy of a key) can: read every record, change, drop or insert lines,
// re-sign seals with a Sealer they hold, and recompute every header and hash
// so that the chain itself verifies again.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHashFn, GENESIS, parseRecord, Sealer, type HashFn, type SealMeta } from '@chainlog/core/format'
import { chainFiles } from './chain'

/** One physical line of the chain, in chain order. */
export interface Entry {
  /** The file it is in. */
  file: string
  /** 1-based line number in that file. */
  line: number
  /** The stored line (between prev and hash). */
  stored: string
}

/** Every record of the log `dir/app.N.log`, in chain order. */
export function readChain(dir: string): Entry[] {
  const out: Entry[] = []
  for (const file of chainFiles(dir)) {
    const text = fs.readFileSync(file, 'utf8')
    text.split('\n').slice(0, -1).forEach((physical, i) => {
      const r = parseRecord(physical)
      if (!r) throw new Error(`${file}:${i + 1} is not a record`)
      out.push({ file, line: i + 1, stored: r.line })
    })
  }
  return out
}

export const isSeal = (e: Entry): boolean => e.stored.startsWith('\\m{"t":"seal"')
export const isUser = (e: Entry): boolean => !e.stored.startsWith('\\')
export const sealOf = (e: Entry): SealMeta => JSON.parse(e.stored.slice(2)) as SealMeta
export const sealLine = (meta: SealMeta): string => '\\m' + JSON.stringify(meta)

/** The time a pino (`time`) or winston (`timestamp`) line carries. */
export function timeOf(e: Entry): number {
  const o = JSON.parse(e.stored) as { time?: number; timestamp?: string }
  return o.time ?? Date.parse(o.timestamp!)
}

/**
 * The newest time the entries carry, as the verifier reads it (FORMAT.md
 * §13.4): pino `time`, winston `timestamp`, and metadata times (a header
 * written at a rotation can be a millisecond younger than the record that
 * caused it).
 */
export function newestTime(entries: readonly Entry[]): number {
  let newest = -Infinity
  for (const e of entries) {
    const t = isUser(e) ? timeOf(e) : (JSON.parse(e.stored.slice(2)) as { time?: number | string }).time
    const ms = typeof t === 'number' ? t : Date.parse(String(t))
    if (Number.isFinite(ms)) newest = Math.max(newest, ms)
  }
  return newest
}

export interface Regenerate {
  /** The chain hash, as the attacker can compute it (with the key for hmac-sha256). Default sha256. */
  hash?: HashFn
  /** Give the rebuilt chain this id (in every header). */
  chain?: string
  /**
   * Called for every seal at its new place: return a new seal record (signed
   * with a key the attacker holds), or undefined to keep the old one as is.
   */
  resign?: (old: SealMeta, at: { count: number; head: string; chain: string }) => SealMeta | undefined
}

/**
 * Writes `entries` as the log in `dir`: headers get their chain position
 * (`seq`), `prevHash` and, with `chain`, a new chain id; every record is
 * hashed again in order. Lines that come out byte-identical stay so; files
 * left without a line are deleted.
 */
export function regenerate(dir: string, entries: readonly Entry[], options: Regenerate = {}): void {
  const hash = options.hash ?? createHashFn('sha256')
  let prev = GENESIS
  let position = 0
  let chain = ''
  const out = new Map<string, string[]>(chainFiles(dir).map((f) => [f, []]))
  for (const e of entries) {
    let stored = e.stored
    if (stored.startsWith('\\m{"t":"header"')) {
      const h = JSON.parse(stored.slice(2)) as { chain: string; seq: number; prevHash: string }
      const changed = { ...h, ...(options.chain && { chain: options.chain }), seq: position, prevHash: prev }
      chain = changed.chain
      if (JSON.stringify(changed) !== JSON.stringify(h)) stored = '\\m' + JSON.stringify(changed)
    } else if (isSeal(e) && options.resign) {
      const meta = options.resign(sealOf(e), { count: position, head: prev, chain })
      if (meta) stored = sealLine(meta)
    }
    const h = hash(`${prev}|${stored}`)
    const lines = out.get(e.file) ?? []
    lines.push(`${prev}|${stored}|${h}`)
    out.set(e.file, lines)
    prev = h
    position++
  }
  for (const [file, lines] of out) {
    if (lines.length) fs.writeFileSync(file, lines.join('\n') + '\n')
    else fs.rmSync(file, { force: true })
  }
}

/**
 * Re-signs a seal at its new place with `sealer`, at `time` (by default the
 * old seal's time): a Sealer is handed its clock's time on every call, so
 * whoever holds the state can pick any time the state still allows.
 */
export function resignWith(sealer: Sealer, old: SealMeta, at: { count: number; head: string; chain: string }, time = old.time): SealMeta {
  return sealer.seal({ chain: at.chain, count: at.count, head: at.head, time, kind: old.kind, every: old.every })
}

/**
 * A Sealer over a private copy (in a new directory under `workDir`) of a
 * sealing state file (a Sealer evolves its file), optionally doctored first:
 * the state an attacker holds.
 */
export function sealerFrom(workDir: string, stateFile: string, doctor?: (state: Record<string, unknown>) => void): Sealer {
  const copy = path.join(fs.mkdtempSync(path.join(workDir, 'stolen-')), 'seal.key')
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, unknown>
  doctor?.(state)
  fs.writeFileSync(copy, JSON.stringify(state) + '\n', { mode: 0o600 })
  return new Sealer(copy)
}

/** Copies the log directory `from` (its files only) to a fresh directory. */
export function copyLog(from: string, to: string): string {
  fs.mkdirSync(to, { recursive: true })
  for (const f of fs.readdirSync(from)) if (/^app\.\d+\.log$/.test(f)) fs.copyFileSync(path.join(from, f), path.join(to, f))
  return to
}
