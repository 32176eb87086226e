// Types of esm.mjs. Without this file an ESM importer (a .mts file, or a
// "type": "module" project under nodenext) would take dist/index.d.ts, whose
// default export TypeScript then reads as the whole CommonJS exports object,
// so `chainlog(...)` would not type-check (TS2349; issue #13). The names are
// the ones esm.mjs re-exports; test/types.test.ts checks that they agree.
export { chainlog, exitOnSignals, ChainlogDestination, Events, resolveOptions } from './dist/index.js'
export type { ChainlogPinoOptions, ExitOnSignalsOptions, Flushable } from './dist/index.js'
export { chainlog as default } from './dist/index.js'
