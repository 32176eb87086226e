/**
 * The writer's typed event map (events.ts): every event the write path
 * emits is declared in it, and on/once/off/emit follow it. The type checks
 * below are run by `npm run lint` (tsc over the tests); the sweep over the
 * sources runs here.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createChainWriter, type ChainlogError, type ChainWriter, type ChainWriterEvents, type RotateEvent } from '../src/index'
import { ROOT, tmpDir } from './helpers'

/** Every key of the map, once: tsc fails here if one is missing or unknown. */
const DECLARED = { ready: true, new: true, rotate: true, remove: true, archive: true, recovery: true, truncation: true, foreign: true, seal: true, lockLost: true, drain: true, error: true, resume: true, close: true } satisfies Record<keyof ChainWriterEvents, true>

/** Type-level checks, never run: each @ts-expect-error must be an error for tsc. */
export function typeChecks(w: ChainWriter): void {
  w.on('rotate', (e: RotateEvent) => e.from.length)
  w.on('error', (err: ChainlogError) => err.code)
  w.once('resume', (e) => e.refused.toFixed())
  w.off('new', (file: string) => file.length)
  w.emit('drain')
  // @ts-expect-error an event that is not in the map
  w.on('rotated', () => {})
  // @ts-expect-error 'new' carries a path, not an object
  w.on('new', (e: RotateEvent) => e)
  // @ts-expect-error 'resume' needs its payload
  w.emit('resume')
  // @ts-expect-error 'seal' has no `refused`
  w.on('seal', (e) => e.refused)
}

describe('ChainWriterEvents', () => {
  it('declares every event the writer and its rooms emit', () => {
    const src = path.join(ROOT, 'packages/core/src')
    const emitted = new Set<string>()
    for (const name of fs.readdirSync(src).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(src, name), 'utf8')
      for (const m of text.matchAll(/\bemit\('([A-Za-z]+)'/g)) emitted.add(m[1]!)
    }
    // The sweep sees the events of every room: it would miss a renamed emit otherwise.
    for (const e of ['ready', 'new', 'rotate', 'remove', 'recovery', 'truncation', 'seal', 'lockLost', 'drain', 'error', 'resume', 'close']) expect(emitted).toContain(e)
    expect([...emitted].filter((e) => !(e in DECLARED))).toEqual([])
  })

  it("a writer's listeners receive the payloads the map declares", async () => {
    const dir = tmpDir()
    const seen: string[] = []
    const w = await createChainWriter({ file: path.join(dir, 'app.log') }, (writer) => {
      writer.on('ready', () => seen.push('ready'))
      writer.on('new', (file) => seen.push(`new ${path.basename(file)}`))
    })
    w.on('rotate', (e) => seen.push(`rotate ${path.basename(e.from)} ${path.basename(e.to)}`))
    w.on('close', () => seen.push('close'))
    w.write('a')
    await w.rotate()
    await w.close()
    expect(seen).toEqual(['new app.1.log', 'ready', 'new app.2.log', 'rotate app.1.log app.2.log', 'close'])
  })
})
