import { isAlgorithm, type Algorithm, ALGORITHMS } from './algorithm'
import { ChainlogError, ErrorCodes } from './errors'

const invalid = (message: string) => new ChainlogError(ErrorCodes.INVALID_OPTION, message)

const SIZE_UNITS: { [unit: string]: number } = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }

/**
 * Parses a size such as `10m`, `512k`, `1g`, `'2048'` or a number of bytes.
 * Units are binary (k = 1024), as in pino-roll and winston-daily-rotate-file.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseSize(value: unknown, name = 'size'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.floor(value)
    throw invalid(`${name} must be a positive number of bytes or a string like '10m'; got ${value}`)
  }
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
    const unit = m ? SIZE_UNITS[(m[2] || 'b').toLowerCase()] : undefined
    if (m && unit) {
      const bytes = Math.floor(Number(m[1]) * unit)
      if (bytes > 0) return bytes
    }
  }
  throw invalid(`${name} must be a positive number of bytes or a string like '10m', '512k', '1g'; got ${JSON.stringify(value)}`)
}

export type Frequency = 'daily' | 'hourly' | number

/** Validates `frequency`: 'daily', 'hourly', or a period in milliseconds (>= 1 ms). */
export function parseFrequency(value: unknown): Frequency {
  if (value === 'daily' || value === 'hourly') return value
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value
  if (typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1) return Number(value)
  throw invalid(`frequency must be 'daily', 'hourly' or a period in milliseconds; got ${JSON.stringify(value)}`)
}

/**
 * Start of the period after the one `now` is in. Daily and hourly periods
 * follow local time, like pino-roll; a numeric period counts from the epoch.
 */
export function nextBoundary(frequency: Frequency, now: number): number {
  if (frequency === 'daily') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
  }
  if (frequency === 'hourly') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() + 1).getTime()
  }
  return (Math.floor(now / frequency) + 1) * frequency
}

/** Start of the period `now` is in. */
export function periodStart(frequency: Frequency, now: number): number {
  if (frequency === 'daily') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
  }
  if (frequency === 'hourly') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()).getTime()
  }
  return Math.floor(now / frequency) * frequency
}

export function parseAlgorithm(value: unknown): Algorithm {
  if (value === undefined) return 'sha256'
  if (isAlgorithm(value)) return value
  throw invalid(`algorithm must be one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(value)}`)
}

export function parseBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  throw invalid(`${name} must be true or false; got ${JSON.stringify(value)}`)
}

export function parseCount(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  throw invalid(`${name} must be a whole number >= 0; got ${JSON.stringify(value)}`)
}

export function parseMode(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777) return value
  if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value)) return parseInt(value, 8)
  throw invalid(`mode must be a file mode such as 0o640 or '640'; got ${JSON.stringify(value)}`)
}

export { invalid as invalidOption }
