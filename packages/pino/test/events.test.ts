/**
 * The destination's typed event map (events.ts): every event the package
 * emits is declared in it. The type-level checks are in test/types/.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Events, type ChainlogPinoEvents } from '../src/index'
import { FORWARDED } from '../src/events'

/** Every key of the map, once: tsc fails here if one is missing or unknown. */
const KEYS = { 'chainlog:new': true, 'chainlog:rotate': true, 'chainlog:remove': true, 'chainlog:archive': true, 'chainlog:foreign': true, 'chainlog:recovery': true, 'chainlog:truncation': true, 'chainlog:head': true, 'chainlog:resume': true, error: true, close: true, drain: true, finish: true, pipe: true, unpipe: true, data: true, end: true, pause: true, resume: true, readable: true } satisfies Record<keyof ChainlogPinoEvents, true>

describe('ChainlogPinoEvents', () => {
  it('declares every event the package emits, under the names Events gives', () => {
    for (const e of Object.values(Events)) expect(KEYS).toHaveProperty([e])
    const src = path.join(__dirname, '../src')
    // Forwarded events are reported under the names of the map core's forwardEvents takes.
    const emitted = new Set<string>(Object.values(FORWARDED))
    for (const name of fs.readdirSync(src).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(src, name), 'utf8')
      for (const m of text.matchAll(/\breport\(Events\.([A-Z]+)/g)) emitted.add(Events[m[1] as keyof typeof Events])
      for (const m of text.matchAll(/\b(?:report|emit)\('([\w:]+)'/g)) emitted.add(m[1]!)
    }
    for (const e of Object.values(Events)) expect(emitted).toContain(e)
    expect([...emitted].filter((e) => !(e in KEYS))).toEqual([])
  })
})
