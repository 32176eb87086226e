/** Small formatting helpers for the human-readable output. */
import { recordTime } from '@chainlog/core'

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Bytes with a binary unit: "512 B", "1.5 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}

/**
 * Text from a log file made safe for a terminal: control characters (which
 * could move the cursor or recolour the screen) are shown as escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\n/g, '\\n')
}

/**
 * The time of a log line as ISO-8601, when it carries one (core's
 * {@link recordTime}: pino's `"time"`, winston's `"timestamp"`); a timestamp
 * that reads as no date is shown as written.
 */
export function lineTime(line: string | null): string | null {
  const t = recordTime(line)
  if (t === undefined) return null
  return typeof t === 'string' ? t : new Date(t).toISOString()
}
