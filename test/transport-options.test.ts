// How an application learns that its log could not be set up, with real pino
// worker threads against the built JS (#13): a bad option or a log that
// cannot be opened arrives as the transport's 'error', and nothing is written.
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import pino from 'pino'
import { testDir } from './helpers/chain'

const dir = () => testDir('chainlog-topt-')

describe('pino.transport(): a log that cannot be set up is the transport\'s error', () => {
  test.each([
    ['a value core checks (mode)', (d: string) => ({ file: path.join(d, 'app.log'), mode: 'rw-r-----' }), /^INVALID_OPTION: mode must be a file mode/],
    ['an unknown name', (d: string) => ({ file: path.join(d, 'app.log'), frequncy: 'daily' }), /^INVALID_OPTION: unknown option "frequncy" \(did you mean frequency\?\)/],
    ['a refused peer option', (d: string) => ({ file: path.join(d, 'app.log'), limit: { count: 2, removeOtherLogFiles: true } }), /^INVALID_OPTION: option limit.removeOtherLogFiles is not supported/],
    ['a missing directory (found when opening)', (d: string) => ({ file: path.join(d, 'missing', 'app.log') }), /^NO_DIRECTORY: .*set mkdir: true/],
    ['a missing key file (read when opening)', (d: string) => ({ file: path.join(d, 'app.log'), algorithm: 'hmac-sha256', keyFile: path.join(d, 'missing.key') }), /^BAD_KEY: /],
  ])('%s', async (_name, options, message) => {
    const d = dir()
    const t = pino.transport({ target: '@chainlog/pino', options: options(d) })
    const [err] = (await once(t, 'error')) as [Error]
    expect(err.message).toMatch(message)
    expect(fs.readdirSync(d)).toEqual([])
  })
  test("waiting for 'ready' or 'error', as the README shows, refuses to start without the log and starts with it", async () => {
    const started = (options: object) => {
      const t = pino.transport({ target: '@chainlog/pino', options })
      return new Promise<typeof t>((resolve, reject) => (t.once('ready', () => resolve(t)), t.once('error', reject)))
    }
    const d = dir()
    await expect(started({ file: path.join(d, 'missing', 'app.log') })).rejects.toThrow(/^NO_DIRECTORY: /)
    const t = await started({ file: path.join(d, 'app.log') })
    pino(t).info('started')
    const closed = once(t, 'close')
    t.end()
    await closed
    expect(fs.readFileSync(path.join(d, 'app.1.log'), 'utf8')).toContain('"msg":"started"')
  })
  test('file as a function (pino-roll) cannot cross to the worker: pino.transport() throws DataCloneError at once', () => {
    expect(() => pino.transport({ target: '@chainlog/pino', options: { file: () => 'logs/app.log' } })).toThrow(expect.objectContaining({ name: 'DataCloneError' }))
  })
})
