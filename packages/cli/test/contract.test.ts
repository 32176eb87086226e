/**
 * The public contract of @chainlog/core as installed (#14): the root exports
 * what an application needs, the format layer is the `format` subpath, and
 * the declarations hold no internals.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ROOT } from './helpers'

const DIST = path.join(ROOT, 'packages/core/dist')

describe('@chainlog/core exports', () => {
  test('the root: the writer, verify, errors; no format pieces, no internals', () => {
    const root = require('@chainlog/core') as Record<string, unknown>
    for (const name of ['createChainWriter', 'ChainWriter', 'verify', 'ChainlogError', 'ErrorCodes', 'BreakReasons', 'Verdicts', 'loadKey', 'loadVerifyKey', 'generateSealKeys', 'flushOnExit']) expect(root[name], name).toBeDefined()
    for (const name of ['parseRecord', 'createHashFn', 'escapeLine', 'GENESIS', 'ChainVerifier', 'verifyParallel', 'resolveChainFiles', 'openChainFile', 'readFirstLine', 'scanRun', 'FileNaming', 'LogLock', 'readTail', 'SealAuditor']) expect(root[name], name).toBeUndefined()
  })

  test('@chainlog/core/format: records, metadata, escaping, hash functions, seals, the streaming verifier', () => {
    const format = require('@chainlog/core/format') as Record<string, unknown>
    for (const name of ['parseRecord', 'encodeRecord', 'hasRecordBounds', 'escapeLine', 'unescapeLine', 'GENESIS', 'HASH_HEX', 'parseMeta', 'metaLine', 'isKnownMeta', 'createHashFn', 'ALGORITHMS', 'FORMAT_VERSION', 'Sealer', 'checkSealSignature', 'ChainVerifier']) expect(format[name], name).toBeDefined()
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/core/package.json'), 'utf8')) as { exports: Record<string, { types?: string }> }
    expect(fs.existsSync(path.join(ROOT, 'packages/core', pkg.exports['./format']!.types!))).toBe(true)
  })

  test('declarations are stripped of @internal members', () => {
    const dts = fs.readdirSync(DIST).filter((f) => f.endsWith('.d.ts'))
    expect(dts).toContain('verifier.d.ts')
    for (const f of dts) expect(fs.readFileSync(path.join(DIST, f), 'utf8'), f).not.toContain('@internal')
    const verifier = fs.readFileSync(path.join(DIST, 'verifier.d.ts'), 'utf8')
    expect(verifier).toContain('class ChainVerifier')
    expect(verifier).not.toContain('applyRun')
  })
})
