/**
 * C2SP signed notes and tlog checkpoints (docs/FORMAT.md §14): the frozen
 * signed checkpoint of test/fixtures/tree-1, the key text forms, and every
 * malformed or forged note refused with its code.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { formatCheckpoint, formatNote, MerkleTree, NoteSigner, openCheckpoint, openNote, parseCheckpoint, parseNote, parseVerifierKey, recordLeaf, signCheckpoint, SignatureTypes } from '../src/format'
import { ROOT } from './helpers'

const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/tree-1/vectors.json'), 'utf8'))
const cp = vectors.checkpoint
const signer = NoteSigner.parse(cp.skey)
const vkey = parseVerifierKey(cp.vkey)

describe('the frozen checkpoint', () => {
  test('the key from its seed has the frozen text forms', () => {
    const s = NoteSigner.fromSeed(cp.origin, new Uint8Array(Buffer.from(cp.seed, 'hex')))
    expect(s.toString()).toBe(cp.skey)
    expect(s.verifierKey()).toBe(cp.vkey)
    expect(vkey).toMatchObject({ name: cp.origin, type: SignatureTypes.ED25519 })
  })

  test('signing the tree of 8 records gives the frozen note, which opens', () => {
    const tree = new MerkleTree()
    for (const h of vectors.recordHashes) tree.append(recordLeaf(h))
    expect(signCheckpoint({ origin: cp.origin, size: 8, root: tree.root() }, signer)).toBe(cp.note)
    const opened = openCheckpoint(cp.note, vkey)
    expect(opened).toMatchObject({ origin: cp.origin, size: 8, extensions: [] })
    expect(Buffer.from(opened.root).toString('base64')).toBe(Buffer.from(tree.root()).toString('base64'))
  })
})

describe('key text forms', () => {
  test.each([
    ['two parts', 'a+00000000', /expected 3 parts separated by \+/],
    ['a bad name', 'a b+00000000+AQ==', /bad key name/],
    ['an uppercase key id', cp.vkey.replace(/\+([0-9a-f]{8})\+/, (_: string, id: string) => `+${id.toUpperCase()}+`), /8 lowercase hex digits/],
    ['a short key', `${cp.origin}+00000000+AQID`, /type byte and a 32-byte/],
    ['another key id', cp.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), /is not the one of its name and key/],
    ['another name', cp.vkey.replace(cp.origin, 'example.org/other'), /is not the one of its name and key/],
  ])('a verifier key with %s is BAD_KEY', (_name, text, message) => {
    expect(() => parseVerifierKey(text as string)).toThrow(expect.objectContaining({ code: 'BAD_KEY', message: expect.stringMatching(message) }))
  })

  test('an unknown signature type is BAD_KEY', () => {
    const raw = Buffer.from(cp.vkey.split('+')[2], 'base64')
    raw[0] = 0x02
    expect(() => parseVerifierKey(`${cp.origin}+ec75e4fc+${raw.toString('base64')}`)).toThrow(/unknown signature type 0x02/)
  })

  test('a signing key with a wrong key id is BAD_KEY', () => {
    expect(() => NoteSigner.parse(cp.skey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(expect.objectContaining({ code: 'BAD_KEY' }))
    expect(() => NoteSigner.parse(cp.vkey)).toThrow(/does not start with PRIVATE\+KEY/)
  })
})

describe('notes', () => {
  test('a note round-trips through parse and format', () => {
    expect(formatNote(parseNote(cp.note))).toBe(cp.note)
  })

  test.each([
    ['no final newline', cp.note.slice(0, -1), /must end with a newline/],
    ['no blank line', cp.note.replace('\n\n', '\n'), /needs a blank line/],
    ['a control character', cp.note.replace('8\n', '8\t\n'), /control character/],
    ['a signature line without the dash', cp.note.replace('\u2014 ', '- '), /must start with "— "/],
    ['a signature that is not base64', cp.note.replace(/ [A-Za-z0-9+/=]+\n$/, ' !!!\n'), /is not base64/],
  ])('a note with %s is BAD_CHECKPOINT', (_name, text, message) => {
    expect(() => openNote(text, [vkey])).toThrow(expect.objectContaining({ code: 'BAD_CHECKPOINT', message: expect.stringMatching(message) }))
  })

  test('a bit flipped anywhere in the signed text or the signature: CHECKPOINT_UNVERIFIED or BAD_CHECKPOINT, never accepted', () => {
    const bytes = Buffer.from(cp.note, 'utf8')
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x20]) {
        const b = Buffer.from(bytes)
        b[i]! ^= bit
        let code = 'ACCEPTED'
        try {
          openCheckpoint(b.toString('utf8'), vkey)
        } catch (err) {
          code = (err as { code: string }).code
        }
        expect(['CHECKPOINT_UNVERIFIED', 'BAD_CHECKPOINT'], `byte ${i} bit ${bit}`).toContain(code)
      }
    }
  })

  test('signed by another key: CHECKPOINT_UNVERIFIED naming both keys', () => {
    const other = NoteSigner.generate(cp.origin)
    const text = formatCheckpoint(parseCheckpoint(parseNote(cp.note).text))
    const forged = formatNote({ text, signatures: [other.sign(text)] })
    expect(() => openCheckpoint(forged, vkey)).toThrow(expect.objectContaining({ code: 'CHECKPOINT_UNVERIFIED', message: expect.stringMatching(/no signature by a known key: .* the keys given are example\.com\/chainlog\/vectors \(ec75e4fc\)/) }))
  })

  test('cosignatures: required ones must be there and valid; unknown ones are set aside', () => {
    const witness = NoteSigner.generate('witness.example/w1')
    const stranger = NoteSigner.generate('witness.example/w2')
    const note = parseNote(cp.note)
    const cosigned = formatNote({ text: note.text, signatures: [...note.signatures, witness.cosign(note.text, 1_700_000_000n), stranger.cosign(note.text, 1_700_000_001n)] })
    const opened = openCheckpoint(cosigned, vkey, [parseVerifierKey(witness.cosignerKey())])
    expect(opened.cosignatures.map((c) => [c.verifier.name, c.time])).toEqual([['witness.example/w1', 1_700_000_000n]])
    expect(opened.unverified.map((s) => s.name)).toEqual(['witness.example/w2'])
    const onlyStranger = formatNote({ text: note.text, signatures: [...note.signatures, stranger.cosign(note.text, 1n)] })
    expect(() => openCheckpoint(onlyStranger, vkey, [parseVerifierKey(witness.cosignerKey())])).toThrow(expect.objectContaining({ code: 'CHECKPOINT_UNVERIFIED', message: expect.stringMatching(/no cosignature by the witness witness\.example\/w1 \(it has signatures by witness\.example\/w2/) }))
    // A cosignature over another time than the one it carries does not verify.
    const sig = witness.cosign(note.text, 5n)
    sig.signature[7] ^= 1
    expect(() => openCheckpoint(formatNote({ text: note.text, signatures: [...note.signatures, sig] }), vkey, [parseVerifierKey(witness.cosignerKey())])).toThrow(/signature of witness\.example\/w1 .* does not verify/)
  })

  test('the origin must be the key name', () => {
    const s = NoteSigner.generate('a.example/log')
    expect(() => signCheckpoint({ origin: 'b.example/log', size: 0, root: new Uint8Array(32) }, s)).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }))
  })
})

describe('checkpoint bodies', () => {
  test.each([
    ['two lines', 'o\n1\n', /at least 3 lines/],
    ['a leading zero', `o\n01\n${'A'.repeat(43)}=\n`, /no leading zeros/],
    ['a negative size', `o\n-1\n${'A'.repeat(43)}=\n`, /decimal number/],
    ['a short root', 'o\n1\nAAAA\n', /base64 of 32 bytes/],
    ['an empty origin', `\n1\n${'A'.repeat(43)}=\n`, /origin \(line 1\) is empty/],
    ['an empty extension', `o\n1\n${'A'.repeat(43)}=\n\n`, /extension line may not be empty/],
  ])('%s is BAD_CHECKPOINT', (_name, text, message) => {
    expect(() => parseCheckpoint(text)).toThrow(expect.objectContaining({ code: 'BAD_CHECKPOINT', message: expect.stringMatching(message) }))
  })

  test('extension lines are kept', () => {
    expect(parseCheckpoint(`o\n1\n${'A'.repeat(43)}=\nx y\n`).extensions).toEqual(['x y'])
  })
})
