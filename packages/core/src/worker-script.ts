/**
 * Where a worker thread's script is: the compiled file next to this one, or,
 * running from the TypeScript sources (tests), the built one in ../dist.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

/** The compiled script `name` (e.g. `parallel-worker.js`), or null when core is not built. @internal */
export function workerScript(name: string): string | null {
  const here = path.join(__dirname, name)
  if (fs.existsSync(here)) return here
  const built = path.join(__dirname, '..', 'dist', name)
  return fs.existsSync(built) ? built : null
}
