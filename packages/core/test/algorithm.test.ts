import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ChainlogError, loadKey } from '../src/index'
import { ALGORITHMS, createHashFn, keyId, MIN_KEY_BYTES, type Algorithm, type Implementation } from '../src/format'
import { prng, tmpDir } from './helpers'

const IMPLS: Implementation[] = ['node', 'noble']
const KEY = Buffer.from('0123456789abcdef0123456789abcdef')

function hashFn(alg: Algorithm, impl: Implementation, key: Uint8Array = KEY) {
  return createHashFn(alg, alg === 'hmac-sha256' ? { key, impl } : { impl })
}

// Published known answers, so that the two implementations cannot agree on a wrong value.
const KNOWN: { alg: Algorithm; key?: Uint8Array; input: string; hex: string; source: string }[] = [
  { alg: 'sha256', input: 'abc', hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', source: 'FIPS 180-4 example' },
  { alg: 'sha256', input: '', hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', source: 'FIPS 180-4, empty message' },
  { alg: 'blake3', input: '', hex: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262', source: 'BLAKE3 reference, empty input' },
  { alg: 'hmac-sha256', key: Buffer.from('Jefe'), input: 'what do ya want for nothing?', hex: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', source: 'RFC 4231 §4.3 test case 2' },
]

describe('createHashFn', () => {
  for (const k of KNOWN) {
    for (const impl of IMPLS) {
      test(`${k.alg} (${impl}) matches ${k.source}`, () => {
        expect(hashFn(k.alg, impl, k.key)(k.input)).toBe(k.hex)
      })
    }
  }

  for (const alg of ALGORITHMS) {
    test(`${alg}: node and noble agree on strings and bytes, including non-ASCII and large inputs`, () => {
      const rnd = prng(alg.length)
      const node = hashFn(alg, 'node')
      const noble = hashFn(alg, 'noble')
      const inputs = ['', 'a', '0'.repeat(64) + '|hello', 'héllo ✓ \ud83d\ude00 日本', 'x'.repeat(100_000)]
      for (let i = 0; i < 50; i++) inputs.push(Array.from({ length: Math.floor(rnd() * 300) }, () => String.fromCharCode(32 + Math.floor(rnd() * 0x2000))).join(''))
      for (const s of inputs) {
        const bytes = new TextEncoder().encode(s)
        const h = node(s)
        expect(h).toMatch(/^[0-9a-f]{64}$/)
        expect(noble(s)).toBe(h)
        expect(node(bytes)).toBe(h)
        expect(noble(bytes)).toBe(h)
      }
    })
  }

  test('the three algorithms give different hashes of the same input', () => {
    const s = 'same input'
    expect(new Set(ALGORITHMS.map((a) => hashFn(a, 'node')(s))).size).toBe(3)
  })

  test('hmac-sha256 depends on the key', () => {
    const other = Buffer.from(KEY)
    other[0]! ^= 1
    expect(hashFn('hmac-sha256', 'node', other)('x')).not.toBe(hashFn('hmac-sha256', 'node')('x'))
  })

  test.each(IMPLS)('hmac-sha256 without a key throws KEY_REQUIRED (%s)', (impl) => {
    for (const key of [undefined, new Uint8Array(0)]) {
      const err = (() => {
        try {
          createHashFn('hmac-sha256', key ? { key, impl } : { impl })
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(ChainlogError)
      expect(err).toMatchObject({ code: 'KEY_REQUIRED' })
    }
  })

  test('an unknown algorithm throws UNKNOWN_ALGORITHM naming the known ones', () => {
    expect(() => createHashFn('md5' as Algorithm)).toThrow(expect.objectContaining({ code: 'UNKNOWN_ALGORITHM', message: expect.stringMatching(/^UNKNOWN_ALGORITHM: .*"md5".*sha256, blake3, hmac-sha256/) }))
  })
})

describe('keyId (FORMAT.md §5)', () => {
  test('is hex(SHA-256("chainlog-key-id" ‖ 0x00 ‖ key))[0:16]', () => {
    const expected = createHashFn('sha256')(Buffer.concat([Buffer.from('chainlog-key-id\0'), KEY])).slice(0, 16)
    expect(keyId(KEY)).toBe(expected)
    expect(keyId(KEY)).toMatch(/^[0-9a-f]{16}$/)
    expect(keyId(Buffer.from('another key, also 32 bytes long!'))).not.toBe(expected)
  })
})

describe('loadKey (FORMAT.md §8)', () => {
  test('the key is the file\'s bytes with one trailing LF or CRLF removed', () => {
    const dir = tmpDir()
    const hex = 'a'.repeat(64)
    for (const [name, content, key] of [
      ['plain', hex, hex],
      ['lf', hex + '\n', hex],
      ['crlf', hex + '\r\n', hex],
      ['two lf', hex + '\n\n', hex + '\n'],
      ['binary', Buffer.alloc(32, 0x0a), Buffer.alloc(31, 0x0a)],
    ] as const) {
      const file = path.join(dir, name)
      fs.writeFileSync(file, content)
      if (Buffer.from(key).length < MIN_KEY_BYTES) {
        expect(() => loadKey(file), name).toThrow(expect.objectContaining({ code: 'BAD_KEY' }))
      } else {
        expect(Buffer.from(loadKey(file)).equals(Buffer.from(key)), name).toBe(true)
      }
    }
  })

  test('a missing or short key file is BAD_KEY with a message that says why', () => {
    const dir = tmpDir()
    const missing = path.join(dir, 'nope.key')
    expect(() => loadKey(missing)).toThrow(expect.objectContaining({ code: 'BAD_KEY', path: missing, message: expect.stringContaining('does not exist') }))
    const short = path.join(dir, 'short.key')
    fs.writeFileSync(short, 'x'.repeat(MIN_KEY_BYTES - 1) + '\n')
    expect(() => loadKey(short)).toThrow(expect.objectContaining({ code: 'BAD_KEY', message: expect.stringContaining(`holds ${MIN_KEY_BYTES - 1} bytes`) }))
    expect(() => loadKey(dir)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }))
  })
})
