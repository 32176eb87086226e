/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed
 * statement "the tree of this origin had this size and this root",
 * `<origin>\n<size>\n<base64 root>\n` and optional extension lines, as a
 * signed note (note.ts) by the log's checkpoint key (#16, docs/FORMAT.md §14).
 */
import { ChainlogError, ErrorCodes } from './errors'
import { formatNote, openNote, type NoteSigner, type NoteVerifier, type OpenedNote, type VerifiedSignature } from './note'
import { TREE_HASH_BYTES, type TreeHash } from './tree'

/** What a checkpoint says. */
export interface Checkpoint {
  /** The log's name: unique per chain; also the name of the key that signs it. */
  origin: string
  /** The number of leaves (records). */
  size: number
  /** The tree's root. */
  root: TreeHash
  /** Extension lines after the root, in order (rarely used; kept as signed). */
  extensions: string[]
}

function bad(message: string): ChainlogError {
  return new ChainlogError(ErrorCodes.BAD_CHECKPOINT, message)
}

/** The checkpoint body: the text its signatures cover. */
export function formatCheckpoint(c: Pick<Checkpoint, 'origin' | 'size' | 'root'> & { extensions?: string[] }): string {
  if (c.origin === '' || /[\n]/.test(c.origin)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `a checkpoint origin must be one non-empty line; got ${JSON.stringify(c.origin)}`)
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError(`a tree size is a whole number; got ${c.size}`)
  if (c.root.length !== TREE_HASH_BYTES) throw new RangeError(`a root has ${TREE_HASH_BYTES} bytes; got ${c.root.length}`)
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n${(c.extensions ?? []).map((e) => e + '\n').join('')}`
}

/**
 * Parses a checkpoint body (the text of the note).
 * @throws ChainlogError BAD_CHECKPOINT when it is not `<origin>\n<size>\n<base64 root>\n[extensions]`.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw bad('a checkpoint ends with a newline')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3) throw bad(`a checkpoint has at least 3 lines (origin, size, root); this one has ${lines.length}`)
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]]
  if (origin === '') throw bad('the checkpoint origin (line 1) is empty')
  // Decimal with no leading zeros (tlog-checkpoint): one size has one spelling.
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw bad(`the checkpoint size (line 2) must be a decimal number with no leading zeros; got ${JSON.stringify(sizeText)}`)
  const root = Buffer.from(rootText, 'base64')
  if (root.length !== TREE_HASH_BYTES || root.toString('base64') !== rootText) throw bad(`the checkpoint root (line 3) must be base64 of ${TREE_HASH_BYTES} bytes; got ${JSON.stringify(rootText)}`)
  if (extensions.some((e) => e === '')) throw bad('a checkpoint extension line may not be empty')
  return { origin, size: Number(sizeText), root: new Uint8Array(root), extensions }
}

/** Signs a checkpoint with the log's key: the text of a signed note. The key's name must be the origin. */
export function signCheckpoint(c: Pick<Checkpoint, 'origin' | 'size' | 'root'> & { extensions?: string[] }, signer: NoteSigner): string {
  if (signer.name !== c.origin) throw new ChainlogError(ErrorCodes.KEY_MISMATCH, `the checkpoint key is named ${JSON.stringify(signer.name)} but the origin is ${JSON.stringify(c.origin)}; a log's key is named after its origin`)
  const text = formatCheckpoint(c)
  return formatNote({ text, signatures: [signer.sign(text)] })
}

/** A checkpoint whose signatures were checked. */
export interface OpenedCheckpoint extends Checkpoint {
  /** The signed note as given. */
  note: string
  /** The valid cosignatures, by the witness keys given. */
  cosignatures: VerifiedSignature[]
  /** Signature lines by keys not given. */
  unverified: OpenedNote['unverified']
}

/**
 * Opens a signed checkpoint: the log's signature (by `logKey`, whose name is
 * the origin) must verify, and so must a cosignature by each of `witnesses`.
 * @throws ChainlogError BAD_CHECKPOINT (malformed), CHECKPOINT_UNVERIFIED (a signature is missing or invalid, or the origin is not the key's name).
 */
export function openCheckpoint(note: string, logKey: NoteVerifier, witnesses: readonly NoteVerifier[] = []): OpenedCheckpoint {
  const opened = openNote(note, [logKey, ...witnesses])
  if (!opened.verified.some((s) => s.verifier === logKey)) {
    throw new ChainlogError(ErrorCodes.CHECKPOINT_UNVERIFIED, `the checkpoint is not signed by the log's key ${logKey.name} (it is signed by ${opened.signatures.map((s) => s.name).join(', ')})`)
  }
  const checkpoint = parseCheckpoint(opened.text)
  if (checkpoint.origin !== logKey.name) {
    throw new ChainlogError(ErrorCodes.CHECKPOINT_UNVERIFIED, `the checkpoint's origin ${JSON.stringify(checkpoint.origin)} is not the name of the log's key ${JSON.stringify(logKey.name)}`)
  }
  const cosignatures = opened.verified.filter((s) => s.verifier !== logKey)
  for (const w of witnesses) {
    if (!cosignatures.some((s) => s.verifier === w)) {
      throw new ChainlogError(ErrorCodes.CHECKPOINT_UNVERIFIED, `the checkpoint has no cosignature by the witness ${w.name}${opened.unverified.length ? ` (it has signatures by ${opened.unverified.map((s) => s.name).join(', ')}, whose keys were not given)` : ''}`)
    }
  }
  return { ...checkpoint, note, cosignatures, unverified: opened.unverified }
}
