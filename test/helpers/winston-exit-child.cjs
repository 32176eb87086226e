'use strict'
// Logs with winston and ChainlogTransport, then calls process.exit() at once:
//   node winston-exit-child.cjs <file> <lines> <mode>
// mode 'direct': transport.log() straight after construction, while the file
// still opens (what reached the transport); 'logger': logger.info() in a loop
// (what winston's own streams still hold at exit is theirs); 'safe': the
// documented pattern, logger.end() and exit on the transport's 'finish'.
const winston = require('winston')
const { ChainlogTransport } = require('@chainlog/winston')

const [file, lines, mode] = process.argv.slice(2)
const n = Number(lines)
const transport = new ChainlogTransport({ filename: file })
const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] })
if (mode === 'direct') {
  const MESSAGE = Symbol.for('message')
  for (let i = 0; i < n; i++) transport.log({ level: 'info', message: 'x', i, [MESSAGE]: JSON.stringify({ i }) }, () => {})
  process.exit(0)
}
for (let i = 0; i < n; i++) logger.info('line', { i })
if (mode === 'logger') process.exit(0)
transport.on('finish', () => process.exit(0))
logger.end()
