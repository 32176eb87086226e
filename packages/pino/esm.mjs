// ESM entry: the package is built to CommonJS; this re-exports it so that
// `import chainlog from '@chainlog/pino'` gives the function, not the exports object.
import cjs from './dist/index.js'

export const { chainlog, exitOnSignals, ChainlogDestination, Events, resolveOptions } = cjs
export default cjs.chainlog
