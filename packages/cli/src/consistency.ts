/**
 * `chainlog consistency <log> --from <old> [--to <new>]`: the consistency
 * proof between two checkpoints of the log, as the body of a C2SP
 * tlog-witness add-checkpoint request (#16).
 */
import { CHAIN_OPTIONS, chainInput, command, required, type ChainValues } from './args'
import { EXIT_OK, ExitError, usage } from './exit'
import { formatCount } from './format'
import { extendsCheckpoint, signedCheckpoint, treeOf } from './tree-input'

export const CONSISTENCY_HELP = `Usage: chainlog consistency [options] <path...> --from <old checkpoint>

Prints the consistency proof from an older checkpoint of the log to a newer
one, in the body format of a C2SP tlog-witness add-checkpoint request:
  old <size of the older checkpoint>
  <base64 proof hash>...

  <the newer signed checkpoint>
Both checkpoints must be of this log: the log must extend both.

Options:
      --from <file>   the older signed checkpoint; required
      --to <file>     the newer signed checkpoint (default: <base>.checkpoint
                      beside the log)
  -k, --key <file>    key file of an hmac-sha256 chain
  -h, --help          show this help
`

interface Values extends ChainValues {
  from?: string
  to?: string
}

const OPTIONS = { from: { type: 'string' }, to: { type: 'string' }, ...CHAIN_OPTIONS } as const

/** The add-checkpoint body: `old <size>`, the proof lines, a blank line, the checkpoint (C2SP tlog-witness). */
export function addCheckpointBody(oldSize: number, proof: readonly Uint8Array[], note: string): string {
  return `old ${oldSize}\n${proof.map((h) => Buffer.from(h).toString('base64') + '\n').join('')}\n${note}`
}

export const consistency = command<Values>('chainlog consistency', OPTIONS, CONSISTENCY_HELP, async (values, positionals, _ctx) => {
  const fromFile = required('chainlog consistency', values.from, '--from <file>', 'the older signed checkpoint')
  const { input, key } = chainInput('chainlog consistency', values, positionals)
  const from = signedCheckpoint(fromFile, input, '--from')
  const to = signedCheckpoint(values.to, input, '--to')
  if (from.body.origin !== to.body.origin) throw usage(`the checkpoints are of two logs: ${JSON.stringify(from.body.origin)} (${from.source}) and ${JSON.stringify(to.body.origin)} (${to.source})`)
  if (from.body.size > to.body.size) throw usage(`--from ${from.source} (${formatCount(from.body.size)} records) is newer than --to ${to.source} (${formatCount(to.body.size)} records)`)
  const { tree } = await treeOf(input, { ...(key && { key }) })
  for (const cp of [from, to]) {
    const why = extendsCheckpoint(tree, cp.body)
    if (why) throw new ExitError('CHAIN_BROKEN', `the log does not extend the checkpoint ${cp.source}: ${why}`)
  }
  process.stdout.write(addCheckpointBody(from.body.size, tree.consistencyProof(from.body.size, to.body.size), to.note))
  return EXIT_OK
})
