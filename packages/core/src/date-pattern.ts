import { invalidOption } from './errors'
import type { Frequency } from './settings'

// winston-daily-rotate-file (and moment.js users) write date patterns in
// moment's tokens; the writer's dateFormat is date-fns. The translation and
// the rotation period a pattern implies live here, beside the writer's other
// option rules, so that every reader of such a pattern gets the same answer.

/** The rotation period a date token implies. */
export type DateUnit = 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second'

/**
 * moment.js format tokens and their date-fns equivalents, longest first
 * (moment: https://momentjs.com/docs/#/displaying/format/, date-fns: format()).
 * The value tells the rotation period a token implies.
 */
const TOKENS: [moment: string, dateFns: string, unit: DateUnit][] = [
  ['YYYY', 'yyyy', 'year'], ['YY', 'yy', 'year'],
  ['MMMM', 'MMMM', 'month'], ['MMM', 'MMM', 'month'], ['MM', 'MM', 'month'], ['M', 'M', 'month'],
  ['Q', 'q', 'month'],
  ['DDDD', 'DDD', 'day'], ['DDD', 'D', 'day'], ['DD', 'dd', 'day'], ['Do', 'do', 'day'], ['D', 'd', 'day'],
  ['dddd', 'EEEE', 'day'], ['ddd', 'EEE', 'day'], ['d', 'e', 'day'], ['E', 'i', 'day'],
  ['WW', 'II', 'week'], ['W', 'I', 'week'], ['ww', 'ww', 'week'], ['w', 'w', 'week'],
  ['HH', 'HH', 'hour'], ['H', 'H', 'hour'], ['hh', 'hh', 'hour'], ['h', 'h', 'hour'], ['kk', 'kk', 'hour'], ['k', 'k', 'hour'],
  ['A', 'a', 'hour'], ['a', 'aaa', 'hour'],
  ['mm', 'mm', 'minute'], ['m', 'm', 'minute'],
  ['ss', 'ss', 'second'], ['s', 's', 'second'],
]
const ORDER: DateUnit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year']

/**
 * Translates a moment.js date pattern to date-fns, and finds its smallest unit.
 * Text in `[brackets]` is literal in moment; it becomes `'quoted'` in date-fns.
 * @throws ChainlogError INVALID_OPTION for a letter that is not a token chainlog knows
 */
export function translateDatePattern(pattern: string): { dateFormat: string; unit: DateUnit } {
  let out = ''
  let smallest: DateUnit | null = null
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!
    if (c === '[') {
      const end = pattern.indexOf(']', i)
      if (end === -1) throw invalidOption(`datePattern ${JSON.stringify(pattern)} has an unclosed [`)
      const literal = pattern.slice(i + 1, end)
      if (literal) out += `'${literal.replace(/'/g, "''")}'`
      i = end + 1
      continue
    }
    const token = TOKENS.find(([m]) => pattern.startsWith(m, i))
    if (token) {
      out += token[1]
      if (!smallest || ORDER.indexOf(token[2]) < ORDER.indexOf(smallest)) smallest = token[2]
      i += token[0].length
      continue
    }
    if (/[a-zA-Z]/.test(c)) throw invalidOption(`datePattern ${JSON.stringify(pattern)}: ${JSON.stringify(c)} is not a moment.js token chainlog supports; put literal text in [brackets]`)
    out += c === "'" ? "''" : c
    i++
  }
  if (!smallest) throw invalidOption(`datePattern ${JSON.stringify(pattern)} has no date or time token`)
  return { dateFormat: out, unit: smallest }
}

/**
 * The rotation period of a date pattern's smallest unit, as the writer's `frequency`.
 * @throws ChainlogError INVALID_OPTION for a week, month or year, which the writer cannot rotate by
 */
export function periodOfDateUnit(unit: DateUnit, pattern: string): Frequency {
  switch (unit) {
    case 'second':
      return 1000
    case 'minute':
      return 60_000
    case 'hour':
      return 'hourly'
    case 'day':
      return 'daily'
    default:
      throw invalidOption(`datePattern ${JSON.stringify(pattern)} rotates by ${unit}, which chainlog cannot do; use a pattern with a day token such as 'YYYY-MM-DD', or set frequency (such as '24h') to keep this pattern in the names, with numbered files in each ${unit}`)
  }
}
