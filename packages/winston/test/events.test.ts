/**
 * The transport's typed event map (transport.ts): every event the package
 * emits is declared in it. The type-level checks are in test/types/.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ChainlogTransportEvents } from '../src/index'
import { EVENT_NAMES } from '../src/transport'

/** Every key of the map, once: tsc fails here if one is missing or unknown. */
const KEYS = { logged: true, new: true, rotate: true, logRemoved: true, archive: true, foreign: true, recovery: true, truncation: true, resume: true, error: true, close: true, drain: true, finish: true, pipe: true, unpipe: true } satisfies Record<keyof ChainlogTransportEvents, true>

describe('ChainlogTransportEvents', () => {
  it('declares every event the package emits', () => {
    const src = path.join(__dirname, '../src')
    // Forwarded events are emitted under the names of the map core's forwardEvents takes.
    const emitted = new Set<string>(Object.values(EVENT_NAMES))
    for (const name of fs.readdirSync(src).filter((n) => n.endsWith('.ts'))) {
      for (const m of fs.readFileSync(path.join(src, name), 'utf8').matchAll(/\bemit\('(\w+)'/g)) emitted.add(m[1]!)
    }
    for (const e of ['logged', 'new', 'rotate', 'logRemoved', 'archive', 'foreign', 'recovery', 'truncation', 'resume', 'error', 'finish']) expect(emitted).toContain(e)
    expect([...emitted].filter((e) => !(e in KEYS))).toEqual([])
  })
})
