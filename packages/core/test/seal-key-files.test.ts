/**
 * The two key files of sealed logs (docs/FORMAT.md §13.1): the private
 * sealing state is never accepted where the public key is expected, and a
 * refused keygen leaves no new verify.key next to an old seal.key.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { expect, test } from 'vitest'
import { ChainlogError, generateSealKeys, loadVerifyKey, writeSealKeys } from '../src/index'
import { tmpDir } from './helpers'

const small = () => generateSealKeys({ interval: 1000, epochs: 4 })

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(ChainlogError)
    return (err as Error).message
  }
  return undefined
}

test('loadVerifyKey refuses seal.key, although it holds every field of verify.key', () => {
  const dir = tmpDir()
  const { verifyKey, sealKey } = writeSealKeys(dir, small())
  expect(loadVerifyKey(verifyKey).id).toMatch(/^[0-9a-f]{16}$/)
  expect(codeOf(() => loadVerifyKey(sealKey))).toBe(`BAD_KEY: ${sealKey}: this is a sealing state (seal.key), not a verification key; give verify.key`)
})

test('writeSealKeys refused by an existing seal.key leaves no new verify.key behind', () => {
  const dir = tmpDir()
  writeSealKeys(dir, small())
  const oldSeal = fs.readFileSync(path.join(dir, 'seal.key'), 'utf8')
  fs.rmSync(path.join(dir, 'verify.key'))
  expect(codeOf(() => writeSealKeys(dir, small()))).toMatch(/^INVALID_OPTION: .*already holds keys/)
  expect(fs.existsSync(path.join(dir, 'verify.key'))).toBe(false)
  expect(fs.readFileSync(path.join(dir, 'seal.key'), 'utf8')).toBe(oldSeal)
})
