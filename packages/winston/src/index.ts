import { ChainlogTransport } from './transport'

export { ChainlogTransport, type ChainlogTransportEvents } from './transport'
export { resolveOptions, type ChainlogTransportOptions } from './options'
export { translateDatePattern } from '@chainlog/core'
export default ChainlogTransport
