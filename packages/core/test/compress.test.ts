import fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { gzipFile } from '../src/compress'
import { tmpDir } from './helpers'

describe('gzipFile', () => {
  test('replaces the file by its .gz with the same bytes, the given mode, and no temporary left', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'app.1.log')
    const data = Buffer.from('a record\n'.repeat(10_000))
    fs.writeFileSync(file, data)
    expect(await gzipFile(file, 0o600)).toBe(file + '.gz')
    expect(fs.existsSync(file)).toBe(false)
    expect(gunzipSync(fs.readFileSync(file + '.gz')).equals(data)).toBe(true)
    expect(fs.statSync(file + '.gz').mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(dir)).toEqual(['app.1.log.gz'])
  })

  test('a missing source rejects and leaves nothing behind', async () => {
    const dir = tmpDir()
    await expect(gzipFile(path.join(dir, 'nope.log'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
