// ESM entry: the package is built to CommonJS; this re-exports it so that
// `import chainlog from '@chainlog/pino'` gives the function, not the exports object.
import { createRequire } from 'node:module'

// require(), not import: the default import of a CommonJS module differs between
// Node (module.exports) and bundlers or test runners that honour __esModule.
const cjs = createRequire(import.meta.url)('./dist/index.js')

export const { chainlog, exitOnSignals, Events, resolveOptions } = cjs
export default cjs.chainlog
