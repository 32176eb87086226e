/**
 * `chainlog witness <log> --url <witness> --witness-key <vkey>`: submits the
 * log's latest checkpoint, with the consistency proof from the size the
 * witness last cosigned, to a C2SP tlog-witness, and keeps the cosigned
 * checkpoint beside the log, `<base>.cosigned` (#16).
 */
import * as fs from 'node:fs'
import { cosignedFile, loadVerifierKey, readCheckpointFile, replaceFile } from '@chainlog/core'
import { checkSignature, formatNote, parseCheckpoint, parseNote, type NoteVerifier } from '@chainlog/core/format'
import { CHAIN_OPTIONS, chainInput, command, required, type ChainValues } from './args'
import { ExitError, EXIT_OK, usage } from './exit'
import { addCheckpointBody } from './consistency'
import { formatCount } from './format'
import { baseOf, extendsCheckpoint, signedCheckpoint, treeOf } from './tree-input'

export const WITNESS_HELP = `Usage: chainlog witness [options] <path...> --url <witness> --witness-key <vkey>

Submits the log's latest signed checkpoint to a witness (C2SP tlog-witness):
POST <url>/add-checkpoint with the consistency proof from the size the
witness last cosigned. The witness checks the proof against what it cosigned
before, refuses a rollback, and cosigns. The cosigned checkpoint is kept
beside the log, in <base>.cosigned; then
  verify-log <log> --checkpoint <base>.cosigned --checkpoint-key checkpoint.vkey --witness-key <vkey>
requires that cosignature.

Options:
      --url <url>            the witness's base URL; required
      --witness-key <file>   the witness's cosignature verifier key (type 0x04); required
      --checkpoint <file>    the checkpoint to submit (default: <base>.checkpoint)
  -k, --key <file>           key file of an hmac-sha256 chain
  -h, --help                 show this help
`

interface Values extends ChainValues {
  url?: string
  'witness-key'?: string
  checkpoint?: string
}

const OPTIONS = { url: { type: 'string' }, 'witness-key': { type: 'string' }, checkpoint: { type: 'string' }, ...CHAIN_OPTIONS } as const

/** One add-checkpoint request: the HTTP status and the body. */
async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(new URL('add-checkpoint', url.endsWith('/') ? url : url + '/'), { method: 'POST', body, headers: { 'Content-Type': 'text/plain' }, signal: AbortSignal.timeout(30_000) })
    return { status: res.status, text: await res.text() }
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    throw new ExitError('WITNESS_REFUSED', `cannot reach the witness at ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
  }
}

/** The size this log last had cosigned by `witness`, from `<base>.cosigned`; 0 when none. */
function lastCosigned(file: string, witness: NoteVerifier): number {
  if (!fs.existsSync(file)) return 0
  try {
    const note = parseNote(readCheckpointFile(file))
    if (!note.signatures.some((s) => checkSignature(witness, note.text, s))) return 0
    return parseCheckpoint(note.text).size
  } catch {
    // A damaged file is no knowledge; the witness says where it stands (409).
    return 0
  }
}

export const witness = command<Values>('chainlog witness', OPTIONS, WITNESS_HELP, async (values, positionals, _ctx) => {
  const url = required('chainlog witness', values.url, '--url <url>', 'the witness to submit to')
  const witnessKey = required('chainlog witness', values['witness-key'], '--witness-key <file>', "the witness's cosignature verifier key, to check what it answers")
  const { input, key } = chainInput('chainlog witness', values, positionals)
  const base = baseOf(input)
  if (base === null) throw usage('chainlog witness needs the log as one base path (logs/app.log), to keep <base>.cosigned beside it')
  const w = loadVerifierKey(witnessKey, 'witness')
  const cp = signedCheckpoint(values.checkpoint, input, '--checkpoint')
  const { tree } = await treeOf(input, { ...(key && { key }) })
  const why = extendsCheckpoint(tree, cp.body)
  if (why) throw new ExitError('CHAIN_BROKEN', `the log does not extend the checkpoint ${cp.source}: ${why}`)
  const cosigned = cosignedFile(base)
  let old = Math.min(lastCosigned(cosigned, w), cp.body.size)
  for (let attempt = 0; ; attempt++) {
    const res = await post(url, addCheckpointBody(old, tree.consistencyProof(old, cp.body.size), cp.note))
    if (res.status === 200) return keep(res.text, cp, w, cosigned, url)
    const said = res.text.trim().split('\n')[0]!.slice(0, 200)
    if (res.status === 409) {
      // The witness cosigned another size than we thought: tlog-witness says to retry from it, once.
      const size = /^\d+$/.test(said) ? Number(said) : NaN
      if (!Number.isSafeInteger(size)) throw new ExitError('WITNESS_REFUSED', `the witness answered 409 without its size (${JSON.stringify(said)})`)
      if (size > cp.body.size) throw new ExitError('WITNESS_INCONSISTENT', `the witness has cosigned ${formatCount(size)} records of ${cp.body.origin}, more than the ${formatCount(cp.body.size)} of this checkpoint: the log was cut or rolled back, or the witness saw another history`)
      if (attempt > 0) throw new ExitError('WITNESS_REFUSED', `the witness answered 409 twice (its size: ${formatCount(size)}); it is being updated by someone else, try again`)
      process.stderr.write(`chainlog witness: the witness last cosigned ${formatCount(size)} records (not ${formatCount(old)}); retrying from there\n`)
      old = size
      continue
    }
    if (res.status === 404) throw new ExitError('WITNESS_REFUSED', `the witness does not know the log ${cp.body.origin} (404): its operator must add the log's checkpoint.vkey`)
    if (res.status === 403) throw new ExitError('WITNESS_REFUSED', `the witness refuses the checkpoint's signature (403): it knows another key for ${cp.body.origin}${said ? ` (${said})` : ''}`)
    if (res.status === 422) throw new ExitError('WITNESS_INCONSISTENT', `the witness refuses the consistency proof from ${formatCount(old)} to ${formatCount(cp.body.size)} records (422): the log does not extend what the witness cosigned; it was rewritten${said ? ` (${said})` : ''}`)
    throw new ExitError('WITNESS_REFUSED', `the witness answered ${res.status}${said ? `: ${said}` : ''}`)
  }
})

/** Checks the witness's cosignature and keeps the checkpoint with it in `<base>.cosigned`. */
function keep(answer: string, cp: ReturnType<typeof signedCheckpoint>, w: NoteVerifier, file: string, url: string): number {
  const note = parseNote(cp.note)
  let lines
  try {
    lines = parseNote(`${note.text}\n${answer}`).signatures
  } catch {
    throw new ExitError('WITNESS_REFUSED', `the witness at ${url} answered 200 without a signature line`)
  }
  const mine = lines.find((s) => checkSignature(w, note.text, s))
  if (!mine) throw new ExitError('WITNESS_REFUSED', `the witness at ${url} answered with no valid cosignature by ${w.name}: check --witness-key`)
  const text = formatNote({ text: note.text, signatures: [...note.signatures.filter((s) => !(s.name === w.name && s.keyId === w.keyId)), mine] })
  replaceFile(file, text)
  process.stdout.write(text)
  return EXIT_OK
}
