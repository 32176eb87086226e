/**
 * C2SP signed-note (https://c2sp.org/signed-note): a text signed by one or
 * more keys, each signature on a line `— <name> base64(key id ‖ signature)`.
 * Ed25519 signatures (type 0x01) and C2SP tlog-cosignature v1 cosignatures
 * (type 0x04). The key text forms are those of Go's golang.org/x/mod/sumdb/note,
 * so keys and notes pass between chainlog and the Go tools unchanged (#16).
 */
import * as crypto from 'node:crypto'
import { ChainlogError, ErrorCodes } from './errors'

/** Signature types (the byte before the public key in a verifier key). */
export const SignatureTypes = {
  /** A plain Ed25519 signature over the note's text. */
  ED25519: 0x01,
  /** A C2SP tlog-cosignature/v1: a timestamp and an Ed25519 signature over `cosignature/v1\ntime <t>\n<text>`. */
  COSIGNATURE: 0x04,
} as const
export type SignatureType = (typeof SignatureTypes)[keyof typeof SignatureTypes]

/** One signature line of a note. */
export interface NoteSignature {
  /** The key name. */
  name: string
  /** The 32-bit key id (first 4 bytes of the signature's base64). */
  keyId: number
  /** The signature bytes after the key id. */
  signature: Uint8Array
}

/** A note split into its text and its signature lines, none checked yet. */
export interface Note {
  /** The signed text, ending in a newline. */
  text: string
  signatures: NoteSignature[]
}

/** A public key that checks one kind of signature line. */
export interface NoteVerifier {
  name: string
  keyId: number
  type: SignatureType
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array
}

const EM_DASH = '\u2014 '
/** Go's note.Open reads at most this many signatures; so does this module. */
const MAX_SIGNATURES = 100
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')

function bad(message: string): ChainlogError {
  return new ChainlogError(ErrorCodes.BAD_CHECKPOINT, message)
}

/** A key name: non-empty, no whitespace and no `+` (signed-note §Signatures). */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f\u007f]/.test(name)
}

/** The key id of a key: the first 4 bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ type ‖ public key). */
export function noteKeyId(name: string, type: SignatureType, publicKey: Uint8Array): number {
  const h = crypto.createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, type])).update(publicKey).digest()
  return h.readUInt32BE(0)
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0')

/** The verifier key text form `<name>+<hex key id>+<base64(type ‖ public key)>`. */
export function formatVerifierKey(name: string, type: SignatureType, publicKey: Uint8Array): string {
  if (!isKeyName(name)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `a key name must be non-empty, with no spaces and no +; got ${JSON.stringify(name)}`)
  return `${name}+${hex8(noteKeyId(name, type, publicKey))}+${Buffer.concat([Buffer.from([type]), publicKey]).toString('base64')}`
}

/** Splits at the first `n - 1` plus signs; null when there are fewer. */
function chop(text: string, n: number): string[] | null {
  const out: string[] = []
  let rest = text
  for (let i = 0; i < n - 1; i++) {
    const at = rest.indexOf('+')
    if (at === -1) return null
    out.push(rest.slice(0, at))
    rest = rest.slice(at + 1)
  }
  out.push(rest)
  return out
}

/** Strict base64 (padding included, no other characters): Go's StdEncoding. */
function decodeBase64(text: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : null
}

/**
 * Parses a verifier key `<name>+<hex key id>+<base64(type ‖ key)>`, of type
 * 0x01 (a log's checkpoint key) or 0x04 (a witness's cosignature key).
 * @throws ChainlogError BAD_KEY when the text is not such a key or its key id does not match.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const fail = (why: string) => new ChainlogError(ErrorCodes.BAD_KEY, `not a verifier key (<name>+<hex key id>+<base64 key>): ${why}`)
  // Split at the first two +, as Go's note.NewVerifier: base64 has + of its own.
  const parts = chop(text.trim(), 3)
  if (!parts) throw fail('expected 3 parts separated by +')
  const [name, idHex, keyB64] = parts as [string, string, string]
  if (!isKeyName(name)) throw fail(`bad key name ${JSON.stringify(name)}`)
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw fail(`the key id must be 8 lowercase hex digits; got ${JSON.stringify(idHex)}`)
  const key = decodeBase64(keyB64)
  if (!key || key.length !== 33) throw fail('the key must be base64 of a type byte and a 32-byte Ed25519 public key')
  const type = key[0]!
  if (type !== SignatureTypes.ED25519 && type !== SignatureTypes.COSIGNATURE) throw fail(`unknown signature type 0x${type.toString(16).padStart(2, '0')} (chainlog knows 0x01, Ed25519, and 0x04, cosignature/v1)`)
  const publicKey = new Uint8Array(key.subarray(1))
  const keyId = noteKeyId(name, type, publicKey)
  if (hex8(keyId) !== idHex) throw fail(`its key id ${idHex} is not the one of its name and key (${hex8(keyId)})`)
  return { name, keyId, type, publicKey }
}

/**
 * Splits a signed note into its text and signature lines, checking the
 * grammar only (no signature is checked): the text ends in a newline, then a
 * blank line, then one or more signature lines.
 * @throws ChainlogError BAD_CHECKPOINT when the note is malformed.
 */
export function parseNote(msg: string): Note {
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(msg)) throw bad('a signed note may hold no control character other than newline')
  if (!msg.endsWith('\n')) throw bad('a signed note must end with a newline')
  const split = msg.lastIndexOf('\n\n')
  if (split === -1) throw bad('a signed note needs a blank line between its text and its signatures')
  const text = msg.slice(0, split + 1)
  const lines = msg.slice(split + 2, -1).split('\n')
  if (lines.length > MAX_SIGNATURES) throw bad(`a signed note may have at most ${MAX_SIGNATURES} signatures; this one has ${lines.length}`)
  const signatures: NoteSignature[] = []
  for (const line of lines) {
    if (!line.startsWith(EM_DASH)) throw bad(`a signature line must start with "— "; got ${JSON.stringify(line.slice(0, 40))}`)
    const rest = line.slice(EM_DASH.length)
    const space = rest.indexOf(' ')
    const name = rest.slice(0, space)
    const sig = space === -1 ? null : decodeBase64(rest.slice(space + 1))
    if (space === -1 || !isKeyName(name)) throw bad(`a signature line must be "— <name> <base64>"; got ${JSON.stringify(line.slice(0, 40))}`)
    if (!sig || sig.length < 5) throw bad(`the signature of ${name} is not base64 of a key id and a signature`)
    signatures.push({ name, keyId: sig.readUInt32BE(0), signature: new Uint8Array(sig.subarray(4)) })
  }
  return { text, signatures }
}

/** A note as text: its text, a blank line, and one line per signature. */
export function formatNote(note: Note): string {
  let out = note.text + '\n'
  for (const s of note.signatures) {
    const id = Buffer.alloc(4)
    id.writeUInt32BE(s.keyId >>> 0)
    out += `${EM_DASH}${s.name} ${Buffer.concat([id, s.signature]).toString('base64')}\n`
  }
  return out
}

function publicKeyObject(publicKey: Uint8Array): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI, publicKey]), format: 'der', type: 'spki' })
}

/** The message a cosignature/v1 signs (C2SP tlog-cosignature). */
export function cosignedMessage(text: string, time: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time}\n${text}`, 'utf8')
}

/** What a verified signature says: by whom, and for a cosignature, when (seconds since the epoch). */
export interface VerifiedSignature {
  verifier: NoteVerifier
  /** A cosignature's timestamp. */
  time?: bigint
}

/** Whether `sig` is a valid signature by `v` on `text` (null: not valid); a cosignature also yields its time. */
export function checkSignature(v: NoteVerifier, text: string, sig: NoteSignature): VerifiedSignature | null {
  if (sig.name !== v.name || sig.keyId !== v.keyId) return null
  const key = publicKeyObject(v.publicKey)
  if (v.type === SignatureTypes.ED25519) {
    if (sig.signature.length !== 64) return null
    return crypto.verify(null, Buffer.from(text, 'utf8'), key, sig.signature) ? { verifier: v } : null
  }
  if (sig.signature.length !== 72) return null
  const time = Buffer.from(sig.signature.buffer, sig.signature.byteOffset, 8).readBigUInt64BE(0)
  return crypto.verify(null, cosignedMessage(text, time), key, sig.signature.subarray(8)) ? { verifier: v, time } : null
}

/** A note whose signatures were checked against known keys. */
export interface OpenedNote extends Note {
  /** Signatures by the keys given, each valid. */
  verified: VerifiedSignature[]
  /** Signatures by keys not given (other names or key ids): not checked. */
  unverified: NoteSignature[]
}

/**
 * Parses a note and checks its signatures against `verifiers`, as Go's
 * `note.Open`: a signature line whose name and key id match a given key
 * must verify, one from an unknown key is set aside, and at least one
 * signature must be by a given key.
 * @throws ChainlogError BAD_CHECKPOINT when the note is malformed; CHECKPOINT_UNVERIFIED when a signature by a given key is invalid, or none is by a given key.
 */
export function openNote(msg: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const note = parseNote(msg)
  const verified: VerifiedSignature[] = []
  const unverified: NoteSignature[] = []
  for (const sig of note.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId)
    if (!v) {
      unverified.push(sig)
      continue
    }
    const ok = checkSignature(v, note.text, sig)
    if (!ok) throw new ChainlogError(ErrorCodes.CHECKPOINT_UNVERIFIED, `the signature of ${sig.name} (key id ${hex8(sig.keyId)}) does not verify: the note was altered or signed by another key`)
    verified.push(ok)
  }
  if (verified.length === 0) {
    const names = note.signatures.map((s) => `${s.name} (${hex8(s.keyId)})`).join(', ')
    const known = verifiers.map((k) => `${k.name} (${hex8(k.keyId)})`).join(', ')
    throw new ChainlogError(ErrorCodes.CHECKPOINT_UNVERIFIED, `no signature by a known key: the note is signed by ${names}; the keys given are ${known || 'none'}`)
  }
  return { ...note, verified, unverified }
}

/**
 * An Ed25519 signing key in Go's note private key text form
 * `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte seed)>`.
 */
export class NoteSigner {
  readonly name: string
  readonly keyId: number
  readonly publicKey: Uint8Array
  private readonly key: crypto.KeyObject
  private readonly seed: Uint8Array

  private constructor(name: string, seed: Uint8Array) {
    if (!isKeyName(name)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `a key name must be non-empty, with no spaces and no +; got ${JSON.stringify(name)}`)
    this.name = name
    this.seed = seed
    this.key = crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' })
    const jwk = crypto.createPublicKey(this.key).export({ format: 'jwk' })
    this.publicKey = new Uint8Array(Buffer.from(jwk.x!, 'base64url'))
    this.keyId = noteKeyId(name, SignatureTypes.ED25519, this.publicKey)
  }

  /** A new random key named `name`. */
  static generate(name: string): NoteSigner {
    return new NoteSigner(name, new Uint8Array(crypto.randomBytes(32)))
  }

  /** A key from its 32-byte Ed25519 seed. */
  static fromSeed(name: string, seed: Uint8Array): NoteSigner {
    if (seed.length !== 32) throw new RangeError(`an Ed25519 seed has 32 bytes; got ${seed.length}`)
    return new NoteSigner(name, seed)
  }

  /**
   * Parses the private key text form.
   * @throws ChainlogError BAD_KEY when the text is not an Ed25519 note signing key.
   */
  static parse(text: string): NoteSigner {
    const parts = chop(text.trim(), 5)
    const fail = (why: string) => new ChainlogError(ErrorCodes.BAD_KEY, `not a checkpoint signing key (PRIVATE+KEY+<name>+<hex key id>+<base64 key>): ${why}`)
    if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw fail('it does not start with PRIVATE+KEY+ or has the wrong number of parts')
    const [, , name, idHex, keyB64] = parts as [string, string, string, string, string]
    const key = decodeBase64(keyB64)
    if (!key || key.length !== 33 || key[0] !== SignatureTypes.ED25519) throw fail('the key must be base64 of 0x01 and a 32-byte Ed25519 seed')
    if (!isKeyName(name)) throw fail(`bad key name ${JSON.stringify(name)}`)
    const signer = new NoteSigner(name, new Uint8Array(key.subarray(1)))
    if (hex8(signer.keyId) !== idHex) throw fail(`its key id ${idHex} is not the one of its name and key (${hex8(signer.keyId)})`)
    return signer
  }

  /** The private key text form (keep it secret). */
  toString(): string {
    return `PRIVATE+KEY+${this.name}+${hex8(this.keyId)}+${Buffer.concat([Buffer.from([SignatureTypes.ED25519]), this.seed]).toString('base64')}`
  }

  /** The verifier key text form, to publish. */
  verifierKey(): string {
    return formatVerifierKey(this.name, SignatureTypes.ED25519, this.publicKey)
  }

  /** The signature line of `text`. */
  sign(text: string): NoteSignature {
    return { name: this.name, keyId: this.keyId, signature: new Uint8Array(crypto.sign(null, Buffer.from(text, 'utf8'), this.key)) }
  }

  /** A C2SP tlog-cosignature/v1 by this key's seed at `time` (seconds): what a witness adds. */
  cosign(text: string, time: bigint): NoteSignature {
    const pub = this.publicKey
    const t = Buffer.alloc(8)
    t.writeBigUInt64BE(time)
    const sig = crypto.sign(null, cosignedMessage(text, time), this.key)
    return { name: this.name, keyId: noteKeyId(this.name, SignatureTypes.COSIGNATURE, pub), signature: new Uint8Array(Buffer.concat([t, sig])) }
  }

  /** The cosignature verifier key of this key's seed (type 0x04). */
  cosignerKey(): string {
    return formatVerifierKey(this.name, SignatureTypes.COSIGNATURE, this.publicKey)
  }
}
