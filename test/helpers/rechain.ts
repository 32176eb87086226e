/**
 * An attacker who rewrites a chain from some record on: every later record
 * gets a fresh `prev` and `hash` under a hash of the attacker's choice, and
 * every later header's `prevHash` follows its new `prev`, so that the chain
 * links perfectly. What is left to catch it are the rules the verifier
 * enforces beyond the links.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { GENESIS } from '@chainlog/core/format'

export type Rehash = (body: string) => string

/** Plain SHA-256 of the body `prev|line`: what anyone without a key can compute. */
export const sha256: Rehash = (body) => crypto.createHash('sha256').update(body).digest('hex')

/** HMAC-SHA-256 under `key`: what someone holding the chain key can compute. */
export const hmacWith = (key: Buffer | string): Rehash => (body) => crypto.createHmac('sha256', key).update(body).digest('hex')

/** One stored line as the attacker sees it; return the new stored line. */
export type Edit = (stored: string, place: { file: number; line: number }) => string

/**
 * Rewrites `files` (in chain order; a `.gz` file is rewritten compressed): each stored line passes through
 * `edit` (after its header's `prevHash` was set to its new `prev`), and every record is re-linked and re-hashed with `rehash`, from
 * `from` (the genesis, or the last hash of an earlier file left alone) on. Header `prevHash` members follow their new `prev`.
 */
export function rechain(files: string[], rehash: Rehash, edit: Edit = (s) => s, from = GENESIS): void {
  let prev = from
  files.forEach((file, f) => {
    const gz = file.endsWith('.gz')
    const text = (gz ? gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file)).toString('utf8')
    const out: string[] = []
    text.split('\n').slice(0, -1).forEach((physical, i) => {
      let stored = physical.slice(65, -65)
      if (i === 0 && stored.startsWith('\\m')) {
        const header = JSON.parse(stored.slice(2)) as { t: string; prevHash?: string }
        if (header.t === 'header') stored = '\\m' + JSON.stringify({ ...header, prevHash: prev })
      }
      stored = edit(stored, { file: f, line: i + 1 })
      const body = `${prev}|${stored}`
      const hash = rehash(body)
      out.push(`${body}|${hash}`)
      prev = hash
    })
    const data = Buffer.from(out.map((l) => l + '\n').join(''))
    fs.writeFileSync(file, gz ? gzipSync(data) : data)
  })
}

/** Changes stored lines of `file` in place (decompressing a `.gz`), leaving every hash as it was. */
export function editStored(file: string, edit: Edit, f = 0): void {
  const gz = file.endsWith('.gz')
  const text = (gz ? gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file)).toString('utf8')
  const out = text.split('\n').slice(0, -1).map((physical, i) => physical.slice(0, 65) + edit(physical.slice(65, -65), { file: f, line: i + 1 }) + physical.slice(-65))
  const data = Buffer.from(out.map((l) => l + '\n').join(''))
  fs.writeFileSync(file, gz ? gzipSync(data) : data)
}

/** Edits a header's JSON members (a stored header line `\m{…}`); other lines pass unchanged. */
export function headerEdit(change: (header: Record<string, unknown>) => Record<string, unknown>): (stored: string) => string {
  return (stored) => {
    if (!stored.startsWith('\\m')) return stored
    const meta = JSON.parse(stored.slice(2)) as Record<string, unknown>
    return meta.t === 'header' ? '\\m' + JSON.stringify(change(meta)) : stored
  }
}
