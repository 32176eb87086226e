import * as fs from 'node:fs'
import * as path from 'node:path'
import { describeHashPath } from '@chainlog/core'
import { FORMAT_VERSION } from '@chainlog/core/format'

/**
 * "0.1.0 (chainlog format 1)" from this package's package.json, and on a
 * second line the hash path in use (#17), e.g.
 * "hash path: native (@chainlog/native, OpenSSL 3.0.19 27 Jan 2026)".
 */
export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
  return `${pkg.version} (chainlog format ${FORMAT_VERSION})\nhash path: ${describeHashPath()}`
}
