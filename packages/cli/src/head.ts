/**
 * `chainlog head <path...>`: the current head hash and record count as one
 * JSON line, to keep somewhere the log's host cannot reach. Later,
 * `verify-log --checkpoint <file>` reports TRUNCATED if the chain no longer
 * reaches it.
 */
import { ChainlogError, ErrorCodes } from '@chainlog/core'
import { CHAIN_OPTIONS, chainInput, command, type ChainValues } from './args'
import { EXIT_OK, ExitError, usage } from './exit'
import { headOf } from './report'
import { verifyInput } from './source'

export const HEAD_HELP = `Usage: chainlog head [options] <path...>

Verifies the chain and prints its head as one JSON line:
  {"chain":"…","hash":"…","count":1234,"records":1234,"time":"…"}
Keep it elsewhere (another host, a ticket, a notebook): later,
  verify-log --checkpoint head.json logs/app.log
says TRUNCATED if the chain no longer reaches that head. A broken chain has no
trustworthy head: nothing is printed and the exit status is 1.

Options:
  -k, --key <file>     key file of an hmac-sha256 chain
  -j, --jobs <n>       worker threads
  -h, --help           show this help
`

const OPTIONS = CHAIN_OPTIONS

export const head = command<ChainValues>('chainlog head', OPTIONS, HEAD_HELP, async (values, positionals, _ctx) => {
  const { input, jobs, key } = chainInput('chainlog head', values, positionals)
  const report = await verifyInput(input, { jobs, ...(key && { key }) })
  if (report.chains) {
    throw new ChainlogError(ErrorCodes.MULTIPLE_CHAINS, `the input holds ${report.chains.length} different chains (${report.chains.map((c) => c.chain ?? c.files[0]).join(', ')}); a head is one chain's: give that log's base path`)
  }
  if (!report.ok) {
    const b = report.breaks[0]!
    throw new ExitError('CHAIN_BROKEN', `the chain is broken at ${b.file}:${b.line} (${b.reason}: ${b.message}); it has no trustworthy head. Run verify-log for details`)
  }
  // A count from stdin that begins mid-file is its own, not a place in the chain: no checkpoint can use it.
  if (report.segment?.anchored === false) throw usage('the input begins mid-file, with no header: its place in the chain is unknown, so it has no head to keep; give whole files')
  const { hash, count } = headOf(report)
  process.stdout.write(JSON.stringify({ chain: report.chain, hash, count, records: report.records, time: new Date().toISOString() }) + '\n')
  return EXIT_OK
})
