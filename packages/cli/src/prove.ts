/**
 * `chainlog prove <log> <file>:<line>`: the proof that one record is in the
 * log, as a JSON bundle an auditor checks with no log at hand
 * (`verify-log --proof`, #16).
 */
import { CHAIN_OPTIONS, chainInput, command, type ChainValues } from './args'
import { EXIT_OK, ExitError, usage } from './exit'
import { formatCount } from './format'
import { extendsCheckpoint, signedCheckpoint, treeOf } from './tree-input'

export const PROVE_HELP = `Usage: chainlog prove [options] <path...> <file>:<line>

Prints, as one JSON object, the proof that the record at <file>:<line> (as
verify-log names lines) is in the log, against a signed checkpoint:
  record      the physical line, as stored
  algorithm   the chain's hash algorithm (the record's own hash uses it)
  index       its leaf index in the tree (0-based, in chain order)
  size        the tree size of the checkpoint
  proof       the RFC 6962 inclusion proof: base64 hashes, bottom-up
  checkpoint  the signed checkpoint the proof leads to
Check it anywhere with: verify-log --proof <bundle> --checkpoint-key checkpoint.vkey

Options:
      --checkpoint <file>  prove against this signed checkpoint (default: the
                           latest, <base>.checkpoint beside the log)
  -k, --key <file>         key file of an hmac-sha256 chain
  -h, --help               show this help
`

interface Values extends ChainValues {
  checkpoint?: string
}

const OPTIONS = { checkpoint: { type: 'string' }, ...CHAIN_OPTIONS } as const

/** `<file>:<line>`: a file and a 1-based line number. */
export function parsePlace(text: string): { file: string; line: number } {
  const m = /^(.+):(\d+)$/.exec(text)
  if (!m || Number(m[2]) < 1 || !Number.isSafeInteger(Number(m[2]))) throw usage(`the record to prove must be given as <file>:<line> (as verify-log prints it, e.g. logs/app.3.log:120); got ${JSON.stringify(text)}`)
  return { file: m[1]!, line: Number(m[2]) }
}

export const prove = command<Values>('chainlog prove', OPTIONS, PROVE_HELP, async (values, positionals, _ctx) => {
  if (positionals.length < 2) throw usage('chainlog prove needs the log and the record: chainlog prove <path...> <file>:<line>')
  const place = parsePlace(positionals.at(-1)!)
  const { input, key } = chainInput('chainlog prove', values, positionals.slice(0, -1))
  if (input === '-') throw usage('chainlog prove reads the log twice (its tree, then the line): give paths, not - (stdin)')
  const cp = signedCheckpoint(values.checkpoint, input, '--checkpoint')
  const { tree, report, found } = await treeOf(input, { ...(key && { key }), find: place })
  if (!found) throw usage(`${place.file}:${place.line} is not a record of this log (the log's files: ${report.files.join(', ')})`)
  const why = extendsCheckpoint(tree, cp.body)
  if (why) throw new ExitError('CHAIN_BROKEN', `the log does not extend the checkpoint ${cp.source}: ${why}`)
  if (found.index >= cp.body.size) {
    throw usage(`${place.file}:${place.line} is record ${formatCount(found.index + 1)} of the log, after the ${formatCount(cp.body.size)} records of the checkpoint ${cp.source}; sign a newer checkpoint (chainlog checkpoint) and prove against it`)
  }
  const bundle = {
    record: found.record,
    algorithm: report.algorithm,
    index: found.index,
    size: cp.body.size,
    proof: tree.inclusionProof(found.index, cp.body.size).map((h) => Buffer.from(h).toString('base64')),
    checkpoint: cp.note,
  }
  process.stdout.write(JSON.stringify(bundle, null, 2) + '\n')
  return EXIT_OK
})
