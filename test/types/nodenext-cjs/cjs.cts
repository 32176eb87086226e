// CommonJS: `import x = require()` is module.exports; a default import is its `default`.
import pinoPackage = require('@chainlog/pino')
import winstonPackage = require('@chainlog/winston')
import core = require('@chainlog/core')
import cli = require('@chainlog/cli')
import chainlog from '@chainlog/pino'
import ChainlogTransport from '@chainlog/winston'
import { exitOnSignals, type ChainlogPinoOptions } from '@chainlog/pino'
import { ChainlogTransport as NamedTransport, type ChainlogTransportOptions } from '@chainlog/winston'
import { createChainWriter, verify } from '@chainlog/core'
import { EXIT_OK, verifyLogMain } from '@chainlog/cli'
import { pino } from 'pino'
import winston = require('winston')

const pinoOptions: ChainlogPinoOptions = { file: 'logs/app.log' }
const winstonOptions: ChainlogTransportOptions = { filename: 'logs/app.log' }

export async function main(): Promise<number> {
  const logger = pino(await chainlog(pinoOptions))
  pino(await pinoPackage.chainlog(pinoOptions))
  pino(await pinoPackage.default(pinoOptions))
  exitOnSignals(logger)
  winston.createLogger({ transports: [new ChainlogTransport(winstonOptions), new NamedTransport(winstonOptions), new winstonPackage.ChainlogTransport(winstonOptions), new winstonPackage.default(winstonOptions)] })
  const writer = await createChainWriter({ file: 'logs/core.log' })
  await writer.close()
  await core.verify('logs/core.log')
  await verify('logs/core.log')
  await cli.verifyLogMain(['logs/app.log'])
  await verifyLogMain(['logs/app.log'])
  // @ts-expect-error chainlog() needs its options
  await chainlog()
  // @ts-expect-error the transport's options are checked
  new ChainlogTransport({ filename: 42 })
  return EXIT_OK + cli.EXIT_OK
}
