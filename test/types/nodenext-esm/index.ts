import chainlog, { chainlog as namedChainlog, ChainlogDestination, exitOnSignals, type ChainlogPinoOptions } from '@chainlog/pino'
import ChainlogTransport, { ChainlogTransport as NamedTransport, type ChainlogTransportOptions } from '@chainlog/winston'
import { ChainlogError, createChainWriter, verify, type VerifyReport } from '@chainlog/core'
import { EXIT_OK, verifyLogMain } from '@chainlog/cli'
import pino from 'pino'
import winston from 'winston'
// The default import of a CommonJS package is its exports object under Node's ESM.
import core from '@chainlog/core'
import cli from '@chainlog/cli'

export const defaults = [core.createChainWriter, core.verify, cli.verifyLogMain, cli.EXIT_OK] as const

const pinoOptions: ChainlogPinoOptions = { file: 'logs/app.log', size: '10m' }
const winstonOptions: ChainlogTransportOptions = { filename: 'logs/app.log', maxFiles: 14 }

export async function main(): Promise<number> {
  const destination: ChainlogDestination = await chainlog(pinoOptions)
  const logger = pino(destination)
  pino(await namedChainlog(pinoOptions))
  const remove: () => void = exitOnSignals(logger)
  remove()
  winston.createLogger({ transports: [new ChainlogTransport(winstonOptions), new NamedTransport(winstonOptions)] })
  const writer = await createChainWriter({ file: 'logs/core.log' })
  writer.write('line')
  await writer.close()
  const report: VerifyReport = await verify('logs/core.log')
  if (!report.ok) throw new ChainlogError('NOT_CHAINLOG', 'not a chain')
  await verifyLogMain(['logs/app.log'])
  // @ts-expect-error chainlog() needs its options
  await chainlog()
  // @ts-expect-error the transport's options are checked
  new ChainlogTransport({ filename: 42 })
  return EXIT_OK
}
