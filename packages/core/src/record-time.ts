/**
 * The time a record carries (one rule for the whole project): what
 * `verify-log --shipped` orders the runs no header or seal places by, and
 * what the CLI prints as a log's time range.
 */

/** The largest time a Date holds, in ms either side of 1970. */
const DATE_LIMIT = 8.64e15

/**
 * The time of a stored line: pino's `"time"` (epoch milliseconds by default,
 * seconds with `unixTime`, or a date string), else winston's `"timestamp"`
 * (as formatted). A metadata record (`\m{…}`) gives its own `time`.
 *
 * @returns epoch milliseconds when the time reads as a date; the text as
 * written when it is a string that does not (a winston format of the user's
 * own); undefined when the line carries no time (not a JSON object, or no
 * such member).
 * @example
 * recordTime('{"level":30,"time":1763805600000,"msg":"hi"}') // 1763805600000
 * recordTime('{"timestamp":"yesterday noon"}') // 'yesterday noon'
 */
export function recordTime(stored: string | null): number | string | undefined {
  if (stored === null) return undefined
  const json = stored.startsWith('\\m') ? stored.slice(2) : stored
  if (json.charCodeAt(0) !== 0x7b /* { */) return undefined
  let obj: unknown
  try {
    obj = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!obj || typeof obj !== 'object') return undefined
  const { time, timestamp } = obj as { time?: unknown; timestamp?: unknown }
  for (const t of [time, timestamp]) {
    if (typeof t === 'number' && Number.isFinite(t)) {
      // Below 1e11 it is seconds (pino's unixTime): 1e11 ms is March 1973, 1e11 s the year 5138.
      const ms = t < 1e11 ? t * 1000 : t
      if (Math.abs(ms) <= DATE_LIMIT) return ms
    }
    if (typeof t === 'string' && t !== '') {
      const ms = Date.parse(t)
      return Number.isNaN(ms) ? t : ms
    }
  }
  return undefined
}
