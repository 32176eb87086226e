import * as fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

/**
 * Gzips a rotated file to `<path>.gz` and removes the original. The archive is
 * written under a temporary name and renamed into place, so a reader never
 * sees a half-written `.gz` next to (or instead of) the original.
 */
export async function gzipFile(path: string, mode?: number): Promise<string> {
  const target = path + '.gz'
  const tmp = `${target}.${process.pid}${TEMP_SUFFIX}`
  try {
    await pipeline(fs.createReadStream(path), createGzip(), fs.createWriteStream(tmp, mode === undefined ? {} : { mode }))
    // Retention may have deleted the file meanwhile; then its archive must not appear.
    await fs.promises.stat(path)
    await fs.promises.rename(tmp, target)
  } catch (err) {
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  await fs.promises.unlink(path)
  return target
}

const TEMP_SUFFIX = '.tmp'
const TEMP_ARCHIVE = /^(.+)\.gz\.(\d+)\.tmp$/

/** The file a temporary archive name of gzipFile() belongs to, and the pid of the process writing it; null for other names. */
export function tempArchiveOf(name: string): { file: string; pid: number } | null {
  const m = TEMP_ARCHIVE.exec(name)
  return m ? { file: m[1]!, pid: Number(m[2]) } : null
}
