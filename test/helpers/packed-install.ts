// The run's one install of the packed tarballs (test/helpers/packed.ts), kept
// apart from vitest's test API so that the global setup can load it.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './root'

export { ROOT }

/** The published packages, by directory under packages/. */
export const PUBLISHED = ['core', 'pino', 'winston', 'cli'] as const
export type Published = (typeof PUBLISHED)[number]

/** What the user's project installs from the registry besides chainlog: the versions this repository tests with. */
const PEERS = ['pino', 'winston', 'fastify', 'pino-pretty', '@types/node']

/** The run's one install: where it is, and the file that says it is done (or why it failed). */
export interface PackedInstall {
  work: string
  /** Holds `{ tarballs }` once the install is done, `{ error }` if it failed. */
  status: string
}

const run = promisify(execFile)

/** Runs npm; a failure carries npm's stderr, which the error's message leaves out. */
async function npm(args: string[], cwd: string): Promise<string> {
  try {
    return (await run('npm', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    throw new Error(`npm ${args.join(' ')} exited ${e.code}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

/** The version of `name` installed in the repository, so that the user's install is served from npm's cache. */
function repoVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
}

/**
 * Builds the packages (turbo: a no-op when nothing changed), packs core, pino,
 * winston and cli (and core's optional @chainlog/native) and installs the
 * tarballs, with pino, winston, fastify, pino-pretty and @types/node, into
 * `<work>/project`. `npm install --prefer-offline`: the cache where it can,
 * else the registry (a cache-only install fails on a fresh machine, since
 * `npm ci` never caches registry metadata).
 */
export async function install(work: string): Promise<Record<Published, string>> {
  await run('npx', ['--no-install', 'turbo', 'run', 'build', ...PUBLISHED.map((p) => `--filter=@chainlog/${p}`)], { cwd: ROOT })
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work, ...PUBLISHED.map((p) => path.join(ROOT, 'packages', p))], work)) as { filename: string }[]
  if (packed.length !== PUBLISHED.length) throw new Error(`npm pack made ${packed.length} tarballs, expected ${PUBLISHED.length}`)
  const tarballs = Object.fromEntries(PUBLISHED.map((p, i) => [p, path.join(work, packed[i].filename)])) as Record<Published, string>
  const project = path.join(work, 'project')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'chainlog-user', private: true }, null, 2))
  // core's optional dependency (#17), as the registry would serve it: its tarball, built from source at install where it can be.
  const native = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work, path.join(ROOT, 'packages', 'native')], work)) as { filename: string }[]
  const peers = PEERS.map((name) => `${name}@${repoVersion(name)}`)
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...Object.values(tarballs), path.join(work, native[0].filename), ...peers], project)
  return tarballs
}

/** A new directory for the run's install, under os.tmpdir(). */
export function installDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-packed-'))
}
