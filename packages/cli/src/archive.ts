/**
 * `chainlog archive <log> (<file...> | --before <file|time>) --to <dir>`:
 * moves the oldest rotated files of a log to cold storage, recorded in the
 * chain first, under the log's lock (#12 C). What stays on the host then
 * verifies as the whole log, and so does the log with the archived files
 * given back.
 */
import { archiveFiles } from '@chainlog/core'
import { command, parseAsOf, readKey } from './args'
import { EXIT_OK, usage } from './exit'
import { formatCount, plural } from './format'

export const ARCHIVE_HELP = `Usage: chainlog archive <log> <file...> --to <dir> [options]
       chainlog archive <log> --before <file|time> --to <dir> [options]

Moves rotated files of a log to another directory (cold storage), recorded in
the chain: under the log's lock, as the writers' retention does, it appends
an archive record naming each file and its last hash to the file being
written, then moves the files. verify-log on what stays (the base path or the
directory) then says VALID and lists the archived files; verify-log on the
archived files and the log together verifies the whole chain.

<log> is the log's base path, as given to the transport (logs/app.log).
Only the oldest files can go (what stays must be one chain from its start),
never the file being written. Nothing is recorded or moved unless every
check passes first.

Options:
      --to <dir>             where the files go (created if missing); a file
                             of the same name there stops the whole archive
      --before <file|time>   every rotated file older than this file of the
                             log, or last written before this time (ISO 8601)
  -k, --key <file>           key file of an hmac-sha256 chain (the archive
                             record is hashed like every record)
      --json                 print the archive record as one JSON line
  -h, --help                 show this help
`

interface Values {
  to?: string
  before?: string
  key?: string
  json?: boolean
  help?: boolean
}

const OPTIONS = {
  to: { type: 'string' },
  before: { type: 'string' },
  key: { type: 'string', short: 'k' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const archive = command<Values>('chainlog archive', OPTIONS, ARCHIVE_HELP, async (values, positionals, ctx) => {
  ctx.json = values.json === true
  const [log, ...files] = positionals
  if (log === undefined) throw usage('name the log (its base path, e.g. logs/app.log); see chainlog archive --help')
  if (values.to === undefined) throw usage('--to <dir> is required: the directory the files are moved to')
  if (files.length && values.before !== undefined) throw usage('give the files to archive or --before, not both')
  if (!files.length && values.before === undefined) throw usage('name the files to archive, or give --before <file|time>; see chainlog archive --help')
  // A time or a file name: a file of the log is named like app.3.log, a time starts with its year.
  const before = values.before === undefined ? undefined : /^\d{4}-\d{2}-\d{2}/.test(values.before) ? parseAsOf(values.before) : values.before
  const key = readKey(values.key)
  const result = await archiveFiles(log, { to: values.to, ...(files.length && { files }), ...(before !== undefined && { before }), ...(key && { key }) })
  if (values.json) {
    process.stdout.write(JSON.stringify({ record: result.record, recordedIn: result.recordedIn, moved: result.moved }) + '\n')
    return EXIT_OK
  }
  const lines = result.record.files.map((f) => `  ${f.file}  ${plural(f.records, 'line')}, last hash ${f.lastHash.slice(0, 16)}…`)
  process.stdout.write(
    `archived ${plural(result.record.files.length, 'file')} to ${result.record.to} (${formatCount(result.moved.length)} moved), recorded at ${result.recordedIn.file}:${result.recordedIn.line}\n${lines.join('\n')}\n`,
  )
  return EXIT_OK
})
