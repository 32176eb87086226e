/**
 * `chainlog checkpoint <log> --key <checkpoint.key>`: builds the tree of the
 * log as it is now and prints a signed C2SP checkpoint of it (#16).
 */
import { checkpointFile, loadCheckpointKey, replaceFile } from '@chainlog/core'
import { signCheckpoint } from '@chainlog/core/format'
import { command, inputPaths, readKey, required } from './args'
import { EXIT_OK, usage } from './exit'
import { baseOf, treeOf } from './tree-input'

export const CHECKPOINT_HELP = `Usage: chainlog checkpoint [options] <path...>

Verifies the chain, builds the RFC 6962 tree of its records and prints a
signed checkpoint of it (C2SP tlog-checkpoint, docs/FORMAT.md §14):
  <origin>
  <number of records>
  <base64 root>

  — <origin> <signature>
Keep it elsewhere, give it to a witness, or check later that the log still
extends it: verify-log <log> --checkpoint <file> --checkpoint-key checkpoint.vkey

Options:
      --key <file>        the checkpoint key (checkpoint.key from
                          chainlog keygen --checkpoint); required
      --write             also replace <base>.checkpoint beside the log
      --chain-key <file>  key file of an hmac-sha256 chain
  -h, --help              show this help
`

interface Values {
  key?: string
  write?: boolean
  'chain-key'?: string
  help?: boolean
}

const OPTIONS = {
  key: { type: 'string' },
  write: { type: 'boolean' },
  'chain-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export const checkpoint = command<Values>('chainlog checkpoint', OPTIONS, CHECKPOINT_HELP, async (values, positionals, _ctx) => {
  const keyFile = required('chainlog checkpoint', values.key, '--key <file>', 'the checkpoint key from chainlog keygen --checkpoint')
  const input = inputPaths('chainlog checkpoint', positionals)
  const base = values.write ? baseOf(input) : null
  if (values.write && base === null) throw usage('--write needs the log as one base path (logs/app.log), to write <base>.checkpoint beside it')
  const signer = loadCheckpointKey(keyFile)
  const chainKey = values['chain-key'] === undefined ? undefined : readKey(values['chain-key'])
  const { tree } = await treeOf(input, { ...(chainKey && { key: chainKey }) })
  const note = signCheckpoint({ origin: signer.name, size: tree.size, root: tree.root() }, signer)
  if (base !== null) replaceFile(checkpointFile(base), note)
  process.stdout.write(note)
  return EXIT_OK
})
