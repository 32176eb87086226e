// ESM entry: the package is built to CommonJS; this re-exports it so that
// `import ChainlogTransport from '@chainlog/winston'` gives the class.
import cjs from './dist/index.js'

export const { ChainlogTransport, resolveOptions, translateDatePattern } = cjs
export default cjs.ChainlogTransport
