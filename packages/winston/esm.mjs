// ESM entry: the package is built to CommonJS; this re-exports it so that
// `import ChainlogTransport from '@chainlog/winston'` gives the class.
import { createRequire } from 'node:module'

// require(), not import: the default import of a CommonJS module differs between
// Node (module.exports) and bundlers or test runners that honour __esModule.
const cjs = createRequire(import.meta.url)('./dist/index.js')

export const { ChainlogTransport, resolveOptions, translateDatePattern } = cjs
export default cjs.ChainlogTransport
