'use strict'
// A child process that logs through pino and @chainlog/pino, then ends the
// way CHAINLOG_CHILD.scenario says. Used by the conformance and pino tests.
const pino = require('pino')
const { chainlog, exitOnSignals } = require('@chainlog/pino')

const cfg = JSON.parse(process.env.CHAINLOG_CHILD)
const options = { file: cfg.file, mkdir: true, ...cfg.options }

async function main () {
  const pinoOptions = {}
  if (cfg.lines) {
    // Make pino write exactly the given lines: streamWrite receives pino's
    // serialized line and returns what goes to the stream.
    let n = 0
    pinoOptions.hooks = { streamWrite: () => cfg.lines[n++] + '\n' }
  }
  let stream
  if (cfg.mode === 'main') stream = await chainlog(options)
  else if (cfg.targets) stream = pino.transport({ targets: cfg.targets.map((t) => (t.target === '@chainlog/pino' ? { ...t, options } : t)) })
  else stream = pino.transport({ target: '@chainlog/pino', options })
  stream.on('error', (err) => process.stdout.write(`transport-error ${err.message}\n`))
  for (const name of ['chainlog:new', 'chainlog:rotate', 'chainlog:head', 'chainlog:remove']) {
    stream.on(name, (arg) => process.stdout.write(`event ${name} ${JSON.stringify(arg)}\n`))
  }
  const logger = pino(pinoOptions, stream)
  if (cfg.scenario === 'signal') exitOnSignals(logger)
  const count = cfg.lines ? cfg.lines.length : cfg.count
  for (let i = 0; i < count; i++) logger.info({ i, pad: 'x'.repeat(cfg.pad ?? 40) }, `line ${i}`)
  switch (cfg.scenario) {
    case 'normal':
      break
    case 'exit':
      process.exit(0)
      break
    case 'uncaught':
      throw new Error('uncaught in the application')
    case 'flush':
      logger.flush((err) => {
        process.stdout.write(`flushed ${err ? err.message : 'ok'}\n`)
        process.exit(0)
      })
      break
    case 'signal':
      setInterval(() => {}, 1000)
      process.stdout.write('ready\n')
      break
    default:
      throw new Error(`unknown scenario ${cfg.scenario}`)
  }
}
main()
