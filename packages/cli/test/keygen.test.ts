/**
 * `chainlog keygen` (issue #7): the two key files with their modes, what it
 * prints, and that it never overwrites keys unless told to.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadVerifyKey } from '@chainlog/core'
import { Sealer } from '@chainlog/core/format'
import { chainlog, oneLineError, pinoLine, tmpDir, verifyLog, writeChain } from './helpers'

const mode = (f: string) => fs.statSync(f).mode & 0o777

describe('chainlog keygen', () => {
  test('writes verify.key (0644) and seal.key (0600), and prints the key id, the epoch, the expiry and what each file is for', async () => {
    const dir = path.join(tmpDir(), 'keys')
    const r = await chainlog(['keygen', '--out', dir, '--interval', '15m', '--epochs', '96'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const verifyKey = path.join(dir, 'verify.key')
    const sealKey = path.join(dir, 'seal.key')
    expect(mode(verifyKey)).toBe(0o644)
    expect(mode(sealKey)).toBe(0o600)
    const k = loadVerifyKey(verifyKey)
    expect(k).toMatchObject({ interval: 900_000, epochs: 96 })
    expect(k.start % 900_000).toBe(0)
    expect(Date.now() - k.start).toBeLessThan(900_000 + 60_000)
    expect(r.stdout).toBe(
      `New sealing keys in ${dir}\n` +
        `  key id     ${k.id}\n` +
        "  epoch      15 minutes: seal.key moves forward and erases the previous epoch's key every 15 minutes\n" +
        `  expires    ${new Date(k.start + 96 * 900_000).toISOString()}, after 96 epochs from ${new Date(k.start).toISOString()}; make new keys before then\n` +
        `  verify.key ${verifyKey}: public; give it to auditors or publish it (verify-log --verify-key ${verifyKey} <log>)\n` +
        `  seal.key   ${sealKey}: private (0600); keep it on the logging host only and give it to the transport as sealKey\n`,
    )
    // The state is for the writer, at epoch 0; the public key is not a sealing key.
    expect(new Sealer(sealKey).keyId).toBe(k.id)
    expect(() => new Sealer(verifyKey)).toThrow(/this is a verification key \(verify\.key\), not a sealing key/)
  })

  test('the defaults: one-hour epochs for a year (8,784 epochs)', async () => {
    const dir = tmpDir()
    const r = await chainlog(['keygen', '--out', dir])
    expect(r.status).toBe(0)
    const k = loadVerifyKey(path.join(dir, 'verify.key'))
    expect(k).toMatchObject({ interval: 3_600_000, epochs: 8784 })
    expect(r.stdout).toContain("  epoch      1 hour: seal.key moves forward and erases the previous epoch's key every hour\n")
    expect(r.stdout).toContain(', after 8,784 epochs from ')
  })

  test('the keys seal a log that verify-log checks with verify.key', async () => {
    const dir = tmpDir()
    const keys = path.join(dir, 'keys')
    expect((await chainlog(['keygen', '--out', keys, '--interval', '60000', '--epochs', '10'])).status).toBe(0)
    await writeChain(dir, Array.from({ length: 5 }, (_, i) => pinoLine(i, Date.now())), { sealKey: path.join(keys, 'seal.key') })
    const r = await verifyLog(['--verify-key', path.join(keys, 'verify.key'), path.join(dir, 'app.log')])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('  end        closing seal: the writer shut down cleanly\n')
  })

  test('refuses to overwrite keys (exit 2, files untouched) unless --force', async () => {
    const dir = tmpDir()
    expect((await chainlog(['keygen', '--out', dir, '--epochs', '4'])).status).toBe(0)
    const before = [fs.readFileSync(path.join(dir, 'verify.key'), 'utf8'), fs.readFileSync(path.join(dir, 'seal.key'), 'utf8')]
    const r = await chainlog(['keygen', '--out', dir, '--epochs', '4'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(oneLineError(r)).toBe(`chainlog keygen: ${dir}/verify.key and ${dir}/seal.key already exist; refusing to overwrite sealing keys (logs sealed with them need that verify.key to be verified). Choose another --out, or give --force to replace them`)
    expect([fs.readFileSync(path.join(dir, 'verify.key'), 'utf8'), fs.readFileSync(path.join(dir, 'seal.key'), 'utf8')]).toEqual(before)
    // Either file alone is enough to refuse.
    fs.rmSync(path.join(dir, 'verify.key'))
    const one = await chainlog(['keygen', '--out', dir, '--epochs', '4'])
    expect(one.status).toBe(2)
    expect(oneLineError(one)).toMatch(new RegExp(`^chainlog keygen: ${dir}/seal\\.key already exists; refusing to overwrite`))
    expect(fs.existsSync(path.join(dir, 'verify.key'))).toBe(false)
    // --force replaces both, with a new key, and seal.key is 0600 again.
    fs.chmodSync(path.join(dir, 'seal.key'), 0o644)
    const forced = await chainlog(['keygen', '--out', dir, '--epochs', '4', '--force'])
    expect(forced.status).toBe(0)
    const k = loadVerifyKey(path.join(dir, 'verify.key'))
    expect(before[0]).not.toContain(k.id)
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'seal.key'), 'utf8')).id).toBe(k.id)
    expect(mode(path.join(dir, 'seal.key'))).toBe(0o600)
  })

  test.each([
    [['keygen'], 'chainlog keygen: keygen needs --out <dir>: the directory to write verify.key and seal.key to'],
    [['keygen', 'keys'], 'chainlog keygen: keygen takes no paths (got "keys"); give the directory with --out <dir>'],
    [['keygen', '--out', 'X', '--interval', '500'], 'chainlog keygen: --interval must be a time of at least 1 second: milliseconds, or a number with s, m, h or d (15m, 1h); got "500"'],
    [['keygen', '--out', 'X', '--interval', '1 hour'], 'chainlog keygen: --interval must be a time of at least 1 second: milliseconds, or a number with s, m, h or d (15m, 1h); got "1 hour"'],
    [['keygen', '--out', 'X', '--epochs', '0'], 'chainlog keygen: --epochs must be a whole number from 1 to 1000000; got "0"'],
    [['keygen', '--out', 'X', '--epochs', '2.5'], 'chainlog keygen: --epochs must be a whole number from 1 to 1000000; got "2.5"'],
    [['keygen', '--out', 'X', '--frobnicate'], "chainlog keygen: Unknown option '--frobnicate'; see chainlog keygen --help"],
  ])('usage error %j: one line, exit 2, nothing written', async (args, message) => {
    const cwd = tmpDir()
    const r = await chainlog(args, { cwd })
    expect(r.status).toBe(2)
    expect(oneLineError(r)).toBe(message)
    expect(fs.readdirSync(cwd)).toEqual([])
  })

  test('a directory that cannot be made: one line naming it, exit 2', async () => {
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'file'), '')
    const r = await chainlog(['keygen', '--out', path.join(dir, 'file', 'keys')])
    expect(r.status).toBe(2)
    expect(oneLineError(r)).toBe(`chainlog keygen: cannot write the keys to ${dir}/file/keys: a part of the path is not a directory`)
  })

  test('chainlog --help lists keygen; keygen --help explains both files', async () => {
    const help = await chainlog(['--help'])
    expect(help.stdout).toContain('  keygen --out <dir>  create the keys of sealed logs')
    const r = await chainlog(['keygen', '--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Usage: chainlog keygen --out <dir> \[options\]\n/)
    expect(r.stdout).toContain('<dir>/seal.key    private (mode 0600)')
  })
})
