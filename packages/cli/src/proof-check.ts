/**
 * `verify-log --proof <bundle> --checkpoint-key <vkey>`: one record checked
 * offline, with no log at hand (#16): the record's own hash, its inclusion
 * proof, and the checkpoint's signature (and cosignatures, --witness-key).
 * Anything wrong with what the bundle says is PROOF_FAILED or
 * CHECKPOINT_UNVERIFIED (exit 1); a file that is not a bundle at all is
 * BAD_PROOF (exit 2).
 */
import * as fs from 'node:fs'
import { ChainlogError, ErrorCodes, systemErrorMeaning, type SystemErrorContext } from '@chainlog/core'
import { createHashFn, HASH_HEX, isAlgorithm, openCheckpoint, parseRecord, recordLeaf, verifyInclusion, type NoteVerifier, type OpenedCheckpoint } from '@chainlog/core/format'
import { formatCount, printable } from './format'

/** A proof bundle as `chainlog prove` prints it. */
export interface ProofBundle {
  record: string
  algorithm: string
  index: number
  size: number
  proof: string[]
  checkpoint: string
}

const READING: SystemErrorContext = { ENOENT: { code: ErrorCodes.BAD_PROOF, words: 'no such file' } }

function badProof(file: string, why: string): ChainlogError {
  return new ChainlogError(ErrorCodes.BAD_PROOF, `${file} is not a proof bundle (as chainlog prove prints it): ${why}`, { path: file })
}

/** Reads a bundle: JSON with every member of the right type. */
export function readBundle(file: string): ProofBundle {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    const m = systemErrorMeaning(err, READING)
    throw new ChainlogError(m?.code ?? ErrorCodes.IO_ERROR, `cannot read proof bundle ${file}: ${m?.words ?? (err as Error).message}`, { path: file })
  }
  let v: Partial<ProofBundle>
  try {
    v = JSON.parse(text)
  } catch {
    throw badProof(file, 'it is not JSON')
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badProof(file, 'it is not a JSON object')
  for (const [name, type] of [['record', 'string'], ['algorithm', 'string'], ['index', 'number'], ['size', 'number'], ['checkpoint', 'string']] as const) {
    if (typeof v[name] !== type) throw badProof(file, `its ${name} must be a ${type}`)
  }
  if (!Array.isArray(v.proof) || v.proof.some((h) => typeof h !== 'string')) throw badProof(file, 'its proof must be an array of base64 strings')
  return v as ProofBundle
}

function failed(message: string): ChainlogError {
  return new ChainlogError(ErrorCodes.PROOF_FAILED, message)
}

/** What a bundle that verifies proves. */
export interface ProvenRecord {
  index: number
  size: number
  checkpoint: OpenedCheckpoint
}

/**
 * Checks a bundle: the record is a record and matches its own hash (under its
 * chain's algorithm; `key` for hmac-sha256), the checkpoint is signed by
 * `logKey` (and cosigned by each of `witnesses`), the bundle's size is the
 * checkpoint's, and the inclusion proof leads from the record to the
 * checkpoint's root.
 * @throws ChainlogError PROOF_FAILED or CHECKPOINT_UNVERIFIED, with the reason.
 */
export function checkBundle(b: ProofBundle, logKey: NoteVerifier, witnesses: readonly NoteVerifier[], key?: Uint8Array): ProvenRecord {
  const rec = parseRecord(b.record)
  if (!rec) throw failed(`the bundle's record is not a chainlog record (prev|line|hash): ${printable(b.record.slice(0, 80))}`)
  if (!isAlgorithm(b.algorithm)) throw failed(`the bundle's algorithm ${JSON.stringify(b.algorithm)} is not one chainlog knows`)
  if (b.algorithm === 'hmac-sha256' && !key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, 'the record is of an hmac-sha256 chain: give its key with --key <file> to check its hash')
  const computed = createHashFn(b.algorithm, key ? { key } : {})(Buffer.from(b.record, 'utf8').subarray(0, Buffer.byteLength(b.record) - HASH_HEX - 1))
  if (computed !== rec.hash) throw failed(`the bundle's record does not match its own hash: its ${b.algorithm} hash is ${computed}, the record says ${rec.hash}`)
  let checkpoint: OpenedCheckpoint
  try {
    checkpoint = openCheckpoint(b.checkpoint, logKey, witnesses)
  } catch (err) {
    // A damaged checkpoint inside a bundle is damaged evidence, not unusable input.
    if (err instanceof ChainlogError && err.code === ErrorCodes.BAD_CHECKPOINT) throw failed(`the bundle's checkpoint is malformed: ${err.message.slice(err.code.length + 2)}`)
    throw err
  }
  if (!Number.isSafeInteger(b.size) || b.size !== checkpoint.size) throw failed(`the bundle's size ${b.size} is not the size of its checkpoint (${formatCount(checkpoint.size)} records)`)
  if (!Number.isSafeInteger(b.index) || b.index < 0 || b.index >= b.size) throw failed(`the bundle's index ${b.index} is not a leaf of a tree of ${formatCount(b.size)} records`)
  const proof: Uint8Array[] = []
  for (const [i, h] of b.proof.entries()) {
    const bytes = Buffer.from(h, 'base64')
    if (bytes.length !== 32 || bytes.toString('base64') !== h) throw failed(`hash ${i + 1} of the bundle's proof is not base64 of 32 bytes: ${JSON.stringify(h)}`)
    proof.push(new Uint8Array(bytes))
  }
  const check = verifyInclusion(recordLeaf(rec.hash), b.index, b.size, proof, checkpoint.root)
  if (!check.ok) throw failed(`the inclusion proof does not hold: ${check.message}`)
  return { index: b.index, size: b.size, checkpoint }
}
