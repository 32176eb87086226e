/**
 * The one check of option names for every transport (#14): an unknown name
 * gets the nearest known one, a peer's option that chainlog does not honour
 * its reason (refusals.ts holds the peers' lists). What each option means and
 * takes is settings.ts.
 */
import { invalidOption } from './errors'

/** A plain object (not null, not an array): what every options argument must be. */
export function isOptionsObject(value: unknown): value is { [name: string]: unknown } {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** An option a transport refuses: why, and what to do instead. */
export interface Refusal {
  /** Why chainlog does not take it, and what to do instead. */
  why: string
  /** Values that mean what chainlog does anyway: accepted, and then ignored. */
  accepts?: readonly unknown[]
}

/** The option names one transport takes, for {@link checkOptionNames}. */
export interface OptionNames {
  /** The package named in messages, e.g. `'@chainlog/pino'`. */
  package: string
  /** How its options look, for the message when they are not an object: `"{ file: 'logs/app.log' }"`. */
  example: string
  /** Every name it takes. */
  takes: readonly string[]
  /** Names of its peers (pino-roll, winston-daily-rotate-file, …) it refuses, each with its reason. */
  refused?: { readonly [name: string]: string | Refusal }
  /** Names its logger adds to every transport's options: not the user's, skipped. */
  injected?: readonly string[]
  /** Put before each name in messages, for a nested object such as `'limit.'`. */
  prefix?: string
}

/**
 * The one check of option names for every transport: an unknown name (a
 * typo) is refused rather than silently left at its default, with the
 * nearest known name; a peer's option chainlog does not honour is refused
 * with its reason. Returns the options given, without `undefined` values,
 * injected names and accepted peer values.
 * @throws ChainlogError INVALID_OPTION
 */
export function checkOptionNames(given: unknown, names: OptionNames): { [name: string]: unknown } {
  const prefix = names.prefix ?? ''
  if (!isOptionsObject(given)) throw invalidOption(`${prefix ? prefix.slice(0, -1) : 'options'} must be an object such as ${names.example}; got ${JSON.stringify(given)}`)
  const out: { [name: string]: unknown } = {}
  for (const name of Object.keys(given)) {
    const value = given[name]
    if (value === undefined || names.injected?.includes(name)) continue
    const refusal = names.refused && Object.hasOwn(names.refused, name) ? names.refused[name]! : undefined
    if (refusal !== undefined) {
      const { why, accepts } = typeof refusal === 'string' ? { why: refusal, accepts: undefined } : refusal
      if (accepts?.includes(value)) continue
      const only = accepts ? ` as ${JSON.stringify(value)} (only ${accepts.map((v) => JSON.stringify(v)).join(' or ')})` : ''
      throw invalidOption(`option ${prefix}${name} is not supported by ${names.package}${only}: ${why}`)
    }
    if (!names.takes.includes(name)) {
      const near = nearest(name, [...names.takes, ...Object.keys(names.refused ?? {})])
      throw invalidOption(`unknown option ${JSON.stringify(prefix + name)}${near ? ` (did you mean ${prefix}${near}?)` : ''}; ${names.package} takes ${names.takes.map((n) => prefix + n).join(', ')}`)
    }
    out[name] = value
  }
  return out
}

/** The known name a typo most likely meant: same letters in another case, or at most two edits away. */
function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = 3
  for (const k of known) {
    if (k.toLowerCase() === lower) return k
    const d = distance(lower, k.toLowerCase())
    if (d < bestDistance && d < k.length / 2) [best, bestDistance] = [k, d]
  }
  return best
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}
