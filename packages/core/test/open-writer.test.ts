/**
 * openChainWriter(): a writer returned at once, as sonic-boom opens a file.
 * Options are checked synchronously; the log opens on the next tick and the
 * writer emits 'ready' or 'error'; lines taken before 'ready' are written
 * once it is open, and flushSync() before 'ready' opens the log there and
 * then, so a process that exits at once keeps them.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createChainWriter, openChainWriter, verify, type ChainlogError, type ChainWriter } from '../src/index'
import { logFiles, ROOT, tmpDir } from './helpers'

const stored = (dir: string): string[] => logFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').slice(1, -1)).map((r) => r.slice(65, -65))
const once = <T extends unknown[]>(w: ChainWriter, event: 'ready' | 'error' | 'close'): Promise<T> => new Promise((resolve) => w.once(event, (...args: unknown[]) => resolve(args as T)))

describe('openChainWriter', () => {
  it('throws INVALID_OPTION synchronously, before anything is opened', () => {
    const dir = tmpDir()
    expect(() => openChainWriter({ file: path.join(dir, 'app.log'), size: 'lots' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it("takes lines before 'ready' and writes them once the log is open; listeners added after the call hear the first 'new'", async () => {
    const dir = tmpDir()
    const w = openChainWriter({ file: path.join(dir, 'app.log') })
    const seen: string[] = []
    w.on('new', (file) => seen.push(`new ${path.basename(file)}`))
    w.on('ready', () => seen.push('ready'))
    expect(w.write('before ready')).toBe(true)
    w.writeChunk('a chunk\nand a tail')
    expect(fs.readdirSync(dir)).toEqual([])
    await once(w, 'ready')
    expect(seen).toEqual(['new app.1.log', 'ready'])
    await w.flush()
    expect(stored(dir)).toEqual(['before ready', 'a chunk'])
    await w.close()
    expect(stored(dir)).toEqual(['before ready', 'a chunk', 'and a tail'])
    expect((await verify(dir)).ok).toBe(true)
  })

  it("flushSync() before 'ready' opens the log synchronously and writes what was taken", async () => {
    const dir = tmpDir()
    const w = openChainWriter({ file: path.join(dir, 'app.log') })
    let ready = 0
    w.on('ready', () => ready++)
    w.write('one')
    w.writeChunk('two\nthree')
    w.flushSync()
    expect(ready).toBe(1)
    expect(stored(dir)).toEqual(['one', 'two', 'three'])
    // The open that was scheduled finds the log open: no second 'ready'.
    await new Promise((resolve) => setImmediate(resolve))
    expect(ready).toBe(1)
    await w.close()
    expect((await verify(dir)).ok).toBe(true)
  })

  it("a log that cannot be opened is an 'error', then 'close'; the writer takes nothing more", async () => {
    const dir = tmpDir()
    const w = openChainWriter({ file: path.join(dir, 'missing', 'app.log') })
    const events: string[] = []
    w.on('close', () => events.push('close'))
    w.write('lost')
    const flushed = w.flush()
    const [err] = await once<[ChainlogError]>(w, 'error')
    events.unshift(err.code)
    expect(events).toEqual(['NO_DIRECTORY', 'close'])
    await expect(flushed).rejects.toBe(err)
    await expect(w.start()).rejects.toBe(err)
    expect(w.isClosed).toBe(true)
    expect(() => w.write('after')).toThrow(expect.objectContaining({ code: 'WRITER_CLOSED' }))
    await w.close()
  })

  it("close() before a failed open resolves, after one 'error' and one 'close'", async () => {
    const dir = tmpDir()
    const w = openChainWriter({ file: path.join(dir, 'missing', 'app.log') })
    const events: string[] = []
    w.on('error', (err) => events.push(err.code))
    w.on('close', () => events.push('close'))
    w.write('lost')
    await w.close()
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['NO_DIRECTORY', 'close'])
    expect(w.isClosed).toBe(true)
  })

  it('createChainWriter still resolves once open, and rejects (emitting nothing) when it cannot open', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    expect(w.file).toBe(path.join(dir, 'app.1.log'))
    await w.close()
    let errors = 0
    await expect(createChainWriter({ file: path.join(dir, 'missing', 'app.log') }, (writer) => writer.on('error', () => errors++))).rejects.toMatchObject({ code: 'NO_DIRECTORY' })
    expect(errors).toBe(0)
  })

  it('a process that exits right after logging keeps the lines (flushOnExit before the log is open)', () => {
    const dir = tmpDir()
    const script = `
      const core = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/index.js'))})
      const w = core.openChainWriter({ file: ${JSON.stringify(path.join(dir, 'app.log'))} }, { refuse: 'count' })
      core.flushOnExit(w, 'test')
      w.write('logged before exit')
      w.writeChunk('and a partial line')
      process.exit(0)
    `
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(stored(dir)).toEqual(['logged before exit', 'and a partial line'])
  })
})
