import { readFileSync } from 'node:fs'
import { MIN_KEY_BYTES } from './algorithm'
import { ChainlogError, ErrorCodes, systemErrorMeaning, type SystemErrorContext } from './errors'

const MISSING: SystemErrorContext = { ENOENT: { code: ErrorCodes.BAD_KEY, words: 'it does not exist' } }

/**
 * Reads an hmac-sha256 key file. The key is the file's bytes with one trailing
 * line ending removed (so `openssl rand -hex 32 > chain.key` works as expected).
 * @throws ChainlogError BAD_KEY when the file is missing, unreadable or shorter than 32 bytes.
 */
export function loadKey(path: string): Uint8Array {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    const why = systemErrorMeaning(err, MISSING)?.words ?? String((err as Error).message)
    throw new ChainlogError(ErrorCodes.BAD_KEY, `cannot read key file ${path}: ${why}`, { cause: err, path })
  }
  let end = bytes.length
  if (end > 0 && bytes[end - 1] === 0x0a) end--
  if (end > 0 && bytes[end - 1] === 0x0d) end--
  const key = bytes.subarray(0, end)
  if (key.length < MIN_KEY_BYTES) {
    throw new ChainlogError(ErrorCodes.BAD_KEY, `key file ${path} holds ${key.length} bytes; an hmac-sha256 key needs at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 32 > ${path})`, { path })
  }
  return key
}
