/**
 * Checkpoint keys and checkpoints on disk (#16): `checkpoint.key` (private,
 * 0600) and `checkpoint.vkey` (public), written by `chainlog keygen
 * --checkpoint`; witness keys; and `<base>.checkpoint`, the latest signed
 * checkpoint of a log, replaced atomically (write, fsync, rename) so that a
 * reader never sees half of one.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChainlogError, ErrorCodes, pathError, systemErrorMeaning, type SystemErrorContext } from './errors'
import { writeKeyPair } from './key-pair-files'
import { NoteSigner, parseVerifierKey, SignatureTypes, type NoteVerifier } from './note'

const MISSING: SystemErrorContext = { ENOENT: { code: ErrorCodes.BAD_KEY, words: 'it does not exist' } }

function readKeyText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    const why = systemErrorMeaning(err, MISSING)?.words ?? String((err as Error).message)
    throw new ChainlogError(ErrorCodes.BAD_KEY, `cannot read ${what} ${file}: ${why}`, { cause: err, path: file })
  }
}

function inFile<T>(file: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    if (err instanceof ChainlogError) throw new ChainlogError(err.code, `${file}: ${err.message.slice(err.code.length + 2)}`, { path: file })
    throw err
  }
}

/**
 * Reads a checkpoint signing key (`checkpoint.key`).
 * @throws ChainlogError BAD_KEY when it is missing, unreadable or not a key.
 */
export function loadCheckpointKey(file: string): NoteSigner {
  const text = readKeyText(file, 'the checkpoint key')
  return inFile(file, () => NoteSigner.parse(text))
}

/**
 * Reads a verifier key file (`checkpoint.vkey`, or a witness's key); `type`
 * says which kind it must be.
 * @throws ChainlogError BAD_KEY when it is missing, unreadable, not a verifier key, or of the other type.
 */
export function loadVerifierKey(file: string, type: 'log' | 'witness'): NoteVerifier {
  const text = readKeyText(file, type === 'log' ? 'the checkpoint verifier key' : 'the witness key')
  const v = inFile(file, () => parseVerifierKey(text))
  const want = type === 'log' ? SignatureTypes.ED25519 : SignatureTypes.COSIGNATURE
  if (v.type !== want) {
    throw new ChainlogError(ErrorCodes.BAD_KEY, type === 'log' ? `${file} is a witness's cosignature key (type 0x04), not a log's checkpoint key (type 0x01)` : `${file} is a log's checkpoint key (type 0x01), not a witness's cosignature key (type 0x04)`, { path: file })
  }
  return v
}

/**
 * Writes a new checkpoint key pair into `dir`: `checkpoint.key` (mode 0600)
 * and `checkpoint.vkey`. Existing keys are kept unless `force`.
 * @throws ChainlogError INVALID_OPTION when keys exist; the system error otherwise.
 */
export function writeCheckpointKeys(dir: string, signer: NoteSigner, options: { force?: boolean } = {}): { key: string; vkey: string } {
  const [key, vkey] = writeKeyPair(
    dir,
    [
      { name: 'checkpoint.key', text: signer.toString() + '\n', mode: 0o600 },
      { name: 'checkpoint.vkey', text: signer.verifierKey() + '\n', mode: 0o644 },
    ],
    options,
    `${dir} already holds checkpoint keys; refusing to overwrite them (witnesses pin the key of an origin)`,
  )
  return { key, vkey }
}

/** The file beside a log that holds its latest signed checkpoint: `<base>.checkpoint` (`logs/app.log.checkpoint`). */
export function checkpointFile(base: string): string {
  return `${base}.checkpoint`
}

/** The file beside a log that holds its latest checkpoint cosigned by witnesses: `<base>.cosigned`. */
export function cosignedFile(base: string): string {
  return `${base}.cosigned`
}

/**
 * Replaces `file` with `text` atomically: a temporary file in the same
 * directory, created with `mode`, fsync, then rename over it. A reader sees
 * the old or the new file, whole; a crash leaves at worst a `.tmp-` file.
 * A failure is thrown as `fail` maps it (by default a ChainlogError naming the file).
 */
export function replaceFile(file: string, text: string, mode = 0o644, fail: (err: unknown) => Error = (err) => pathError(err, `cannot write ${file}`, file)): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
  try {
    const fd = fs.openSync(tmp, 'w', mode)
    try {
      fs.writeFileSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw fail(err)
  }
}

const READING: SystemErrorContext = { ENOENT: { code: ErrorCodes.BAD_CHECKPOINT, words: 'no such file' } }

/**
 * Reads a signed checkpoint file.
 * @throws ChainlogError BAD_CHECKPOINT when it is missing; the errno's code otherwise.
 */
export function readCheckpointFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw pathError(err, `cannot read checkpoint ${file}`, file, READING)
  }
}
