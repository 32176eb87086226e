import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChainlogError, ErrorCodes } from './errors'

/** One file of a key pair: its name in the directory, its text and its mode. */
export interface KeyFile {
  name: string
  text: string
  mode: number
}

/**
 * Writes the two files of a key pair into `dir` (made if missing), in the
 * order given. Existing files are kept unless `force`: then the call fails
 * with `refusal`, and never leaves a new file beside an old one of the other
 * kind, which would not match it. Each file ends with its own mode, however
 * the process's umask or an overwritten file had it.
 * @throws ChainlogError INVALID_OPTION (`refusal`) when a file exists; the system error otherwise
 * @returns the two paths, in the order given
 */
export function writeKeyPair(dir: string, files: readonly [KeyFile, KeyFile], options: { force?: boolean }, refusal: string): [string, string] {
  fs.mkdirSync(dir, { recursive: true })
  const paths = files.map((f) => path.join(dir, f.name)) as [string, string]
  const flag = options.force ? 'w' : 'wx'
  let wrote = false
  try {
    fs.writeFileSync(paths[0], files[0].text, { mode: files[0].mode, flag })
    wrote = true
    fs.writeFileSync(paths[1], files[1].text, { mode: files[1].mode, flag })
  } catch (err) {
    if (wrote && !options.force) fs.rmSync(paths[0], { force: true })
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ChainlogError(ErrorCodes.INVALID_OPTION, refusal, { path: dir })
    throw err
  }
  files.forEach((f, i) => fs.chmodSync(paths[i], f.mode))
  return paths
}
