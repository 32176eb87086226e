import { ChainlogTransport } from './transport'

export { ChainlogTransport }
export { resolveOptions, translateDatePattern, type ChainlogTransportOptions } from './options'
export default ChainlogTransport
