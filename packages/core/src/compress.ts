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
  // Opened before the archive's temporary file exists: a file retention already deleted fails here,
  // leaving nothing behind (a read stream that found it gone only after the temporary file's
  // asynchronous open had begun could leave that file once its removal had run).
  const source = fs.openSync(path, 'r')
  try {
    await pipeline(fs.createReadStream(path, { fd: source }), createGzip(), fs.createWriteStream(tmp, mode === undefined ? {} : { mode }))
    // Retention may have deleted the file meanwhile; then its archive must not appear. The check,
    // the rename and the unlink run in one synchronous step: retention runs on this thread too, and
    // between an awaited check and an awaited rename it could delete the file, which the rename
    // would then bring back as an archive its retention record says is gone.
    fs.statSync(path)
    fs.renameSync(tmp, target)
  } catch (err) {
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  fs.unlinkSync(path)
  return target
}

const TEMP_SUFFIX = '.tmp'
const TEMP_ARCHIVE = /^(.+)\.gz\.(\d+)\.tmp$/

/** The file a temporary archive name of gzipFile() belongs to, and the pid of the process writing it; null for other names. */
export function tempArchiveOf(name: string): { file: string; pid: number } | null {
  const m = TEMP_ARCHIVE.exec(name)
  return m ? { file: m[1]!, pid: Number(m[2]) } : null
}
