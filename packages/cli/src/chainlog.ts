/**
 * `chainlog <command>`: the jobs around verification (issue #5):
 * extract, inspect and head; and keygen for sealed logs (issue #7).
 * `verify-log` is its own command.
 */
import { archive } from './archive'
import { checkpoint } from './checkpoint'
import { consistency } from './consistency'
import { EXIT_OK, EXIT_UNUSABLE, runMain, usage, type RunContext } from './exit'
import { extract } from './extract'
import { head } from './head'
import { inspect } from './inspect'
import { keygen } from './keygen'
import { prove } from './prove'
import { version } from './version'
import { witness } from './witness'

const HELP = `Usage: chainlog <command> [options] <path...>

Commands:
  extract <path...>   print the original log lines in chain order (for jq, pino-pretty);
                      refuses a broken chain unless --force
  inspect <path...>   files, record counts, sizes, time range, algorithm, chain id,
                      head, retention and recovery records
  head <path...>      print the head hash and record count as one JSON line, to keep
                      elsewhere and check later with verify-log --checkpoint
  keygen --out <dir>  create the keys of sealed logs: verify.key (public, for
                      verify-log --verify-key) and seal.key (private, the
                      transports' sealKey)
  archive <log> <file...> --to <dir>
                      move the oldest rotated files elsewhere (cold storage),
                      recorded in the chain first, so that what stays verifies

To verify a chain, use verify-log (verify-log --help).
Paths are log files (.gz too), directories, log base paths (logs/app.log) or - for stdin.
Run chainlog <command> --help for a command's options.

Exit status: 0 intact, 1 broken or tampered, 2 usage error or unusable input.
`

const COMMANDS: { [name: string]: (args: string[], ctx: RunContext) => Promise<number> } = { extract, inspect, head, keygen, checkpoint, prove, consistency, witness, archive }

export async function chainlog(args: string[], ctx: RunContext): Promise<number> {
  const [command, ...rest] = args
  if (command === undefined) {
    process.stderr.write(HELP)
    return EXIT_UNUSABLE
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP)
    return EXIT_OK
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`chainlog ${version()}\n`)
    return EXIT_OK
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (!run) {
    if (command === 'verify') throw usage('to verify a chain, run verify-log <path...>')
    throw usage(`unknown command ${JSON.stringify(command)}; the commands are extract, inspect, head, keygen, checkpoint, prove, consistency, witness and archive (see chainlog --help)`)
  }
  ctx.name = `chainlog ${command}`
  return run(rest, ctx)
}

/** The `chainlog` executable. */
export function main(args = process.argv.slice(2)): Promise<void> {
  return runMain({ name: 'chainlog', json: args.includes('--json') }, (ctx) => chainlog(args, ctx))
}
