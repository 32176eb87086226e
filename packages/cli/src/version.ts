import * as fs from 'node:fs'
import * as path from 'node:path'
import { FORMAT_VERSION } from '@chainlog/core/format'

/** "0.1.0 (chainlog format 1)", from this package's package.json. */
export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
  return `${pkg.version} (chainlog format ${FORMAT_VERSION})`
}
