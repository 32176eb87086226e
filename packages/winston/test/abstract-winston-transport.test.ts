// winston's own transport conformance suite (abstract-winston-transport),
// which is written for mocha, run under vitest through a small shim that maps
// describe/it/before/after/beforeEach/afterEach, including mocha's `done`.
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest'
import { ChainlogTransport } from '../src/index'

type Done = (err?: unknown) => void
type MochaFn = ((done: Done) => void) | (() => unknown)

/** A mocha function taking `done` becomes one returning a promise. */
const promised = (fn: MochaFn) => (fn.length > 0 ? () => new Promise<void>((resolve, reject) => (fn as (done: Done) => void)((err) => (err ? reject(err) : resolve()))) : (fn as () => unknown))

const mocha = {
  describe: (name: string, fn: () => void) => describe(name, fn),
  it: (name: string, fn: MochaFn) => test(name, promised(fn) as () => Promise<void>),
  before: (fn: MochaFn) => beforeAll(promised(fn) as () => Promise<void>),
  after: (fn: MochaFn) => afterAll(promised(fn) as () => Promise<void>),
  beforeEach: (fn: MochaFn) => beforeEach(promised(fn) as () => Promise<void>),
  afterEach: (fn: MochaFn) => afterEach(promised(fn) as () => Promise<void>),
}
Object.assign(globalThis, mocha)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-abstract-'))
const made: ChainlogTransport[] = []
afterAll(async () => {
  await Promise.all(made.map((t) => new Promise<void>((resolve) => (t.once('finish', () => resolve()), t.end()))))
  fs.rmSync(dir, { recursive: true, force: true })
})

const suite = createRequire(__filename)('abstract-winston-transport') as (options: object) => void
suite({
  name: 'ChainlogTransport',
  Transport: class extends ChainlogTransport {
    constructor(options: object) {
      super(options)
      made.push(this)
    }
  },
  construct: { filename: path.join(dir, 'app.log') },
})
