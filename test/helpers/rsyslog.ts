// Two real rsyslogd instances on 127.0.0.1 for the shipped tests (#15): a
// sender that tails chainlog's rotating files with imfile and forwards them
// over TCP, and a receiver that writes what it gets to a central file. Each
// has its own config, pid file and work directory, and the test starts and
// stops them. The configs are the recipes of docs/OPERATIONS.md, read from it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { onTestFinished } from 'vitest'

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

const OPERATIONS = path.resolve(__dirname, '../../docs/OPERATIONS.md')

/** The configuration block that follows `<!-- marker -->` in docs/OPERATIONS.md: the recipe, as the reader copies it. */
function recipe(marker: string): string {
  const text = fs.readFileSync(OPERATIONS, 'utf8')
  const m = new RegExp(`<!-- ${marker} -->\\n\`\`\`conf\\n([\\s\\S]*?)\`\`\`\\n`).exec(text)
  if (!m) throw new Error(`docs/OPERATIONS.md has no \`\`\`conf block after <!-- ${marker} -->`)
  return m[1]!
}

/** Replaces each of the recipe's example values, which must all be there. */
function fill(conf: string, values: Array<[string, string]>): string {
  for (const [from, to] of values) {
    if (!conf.includes(from)) throw new Error(`the recipe no longer holds ${from}`)
    conf = conf.split(from).join(to)
  }
  return conf
}

/** The receiver recipe of docs/OPERATIONS.md: TCP in, one central file out (RSYSLOG_FileFormat), on 127.0.0.1:`port`. */
export function receiverConf(dir: string, port: number, central: string): string {
  return fill(recipe('rsyslog receiver'), [['/var/spool/rsyslog-central', `${dir}/rx-work`], ['0.0.0.0', '127.0.0.1'], ['6514', String(port)], ['/srv/central/app.log', central]])
}

/**
 * The sender recipe of docs/OPERATIONS.md: imfile tails every file of the
 * log (rotation makes new ones, app.1.log, app.2.log, …) from its start, and
 * forwards each line as one RFC 5424 message with octet-counted framing,
 * retried until the receiver takes it. `maxMessageSize` replaces the recipe's.
 */
export function senderConf(dir: string, port: number, logs: string, maxMessageSize = '64k'): string {
  return fill(recipe('rsyslog sender'), [['/var/spool/rsyslog-chainlog', `${dir}/tx-work`], ['/var/log/app', logs], ['logs.example.com', '127.0.0.1'], ['6514', String(port)], ['maxMessageSize="64k"', `maxMessageSize="${maxMessageSize}"`]])
}

/** One rsyslogd in the foreground with its own config and pid file. */
export class Rsyslogd {
  private child: ChildProcess | null = null
  private output = ''

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly conf: string,
  ) {
    fs.mkdirSync(path.join(dir, `${name}-work`), { recursive: true })
    fs.writeFileSync(this.confFile, conf)
    const check = spawnSync('rsyslogd', ['-N1', '-f', this.confFile], { encoding: 'utf8' })
    if (check.status !== 0) throw new Error(`rsyslogd -N1 rejects ${this.confFile}:\n${check.stdout}${check.stderr}`)
    onTestFinished(() => this.stop('SIGKILL'))
  }

  get confFile(): string {
    return path.join(this.dir, `${this.name}.conf`)
  }

  get pidFile(): string {
    return path.join(this.dir, `${this.name}.pid`)
  }

  /** Starts it and waits until it has written its pid file (its inputs are then listening). */
  async start(): Promise<void> {
    fs.rmSync(this.pidFile, { force: true })
    const child = spawn('rsyslogd', ['-n', '-f', this.confFile, '-i', this.pidFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.on('data', (d: Buffer) => (this.output += d))
    child.stderr!.on('data', (d: Buffer) => (this.output += d))
    this.child = child
    await until(() => fs.existsSync(this.pidFile), 10_000, () => `${this.name} did not start: ${this.output}`)
  }

  /** Stops it by its own pid and waits for it to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const ended = new Promise((resolve) => child.once('close', resolve))
    child.kill(signal)
    await ended
    this.child = null
  }
}

/** Polls `ok` every 50 ms until it holds, or fails after `ms` with `why()`. */
export async function until(ok: () => boolean, ms: number, why: () => string): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(why())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Lines of a file (0 when it does not exist yet). */
export function lineCount(file: string): number {
  if (!fs.existsSync(file)) return 0
  const text = fs.readFileSync(file, 'utf8')
  return text === '' ? 0 : text.split('\n').length - 1
}

/** Waits until `file` stops growing for `quiet` ms (the sender has caught up). */
export async function settled(file: string, quiet = 1500, ms = 30_000): Promise<void> {
  let last = -1
  let since = Date.now()
  const end = Date.now() + ms
  for (;;) {
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0
    if (size !== last) {
      last = size
      since = Date.now()
    } else if (Date.now() - since >= quiet) return
    if (Date.now() > end) throw new Error(`${file} kept growing for ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
