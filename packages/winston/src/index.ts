import { ChainlogTransport } from './transport'

export { ChainlogTransport, type ChainlogTransportEvents } from './transport'
export { resolveOptions, translateDatePattern, type ChainlogTransportOptions } from './options'
export default ChainlogTransport
