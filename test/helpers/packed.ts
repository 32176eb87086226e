// The four published packages as a user meets them (issue #13): built, packed
// with `npm pack`, and installed from the tarballs into a project outside the
// repository, next to the real pino, winston and fastify. One per test file:
// call packedProject() in beforeAll (the install takes tens of seconds).
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT } from './chain'

export { ROOT }

/** The published packages, by directory under packages/. */
export const PUBLISHED = ['core', 'pino', 'winston', 'cli'] as const
export type Published = (typeof PUBLISHED)[number]

/** What the user's project installs from the registry besides chainlog: the versions this repository tests with. */
const PEERS = ['pino', 'winston', 'fastify', 'pino-pretty']

export interface PackedProject {
  /** The temporary directory holding the tarballs and the project; removed by cleanup(). */
  work: string
  /** The user's project: package.json, node_modules, and nothing of the repository. */
  project: string
  /** Path of each package's tarball. */
  tarballs: Record<Published, string>
  /** Runs npm in the project (or `cwd`); throws with npm's output if it fails. */
  npm(args: string[], cwd?: string): string
  /** Runs an executable installed in the project's node_modules/.bin. */
  bin(name: string, args: string[], cwd?: string): SpawnSyncReturns<string>
  cleanup(): void
}

/** Runs npm; a failure carries npm's stderr, which execFileSync's message leaves out. */
function npm(args: string[], cwd: string): string {
  const res = spawnSync('npm', args, { cwd, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${res.status}:\n${res.stdout}\n${res.stderr}`)
  return res.stdout
}

/** The version of `name` installed in the repository, so that the user's install is served from npm's cache. */
function repoVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
}

/** Builds the packages (turbo: a no-op when nothing changed) and packs them into `dir`. */
export function packAll(dir: string): Record<Published, string> {
  execFileSync('npx', ['--no-install', 'turbo', 'run', 'build', ...PUBLISHED.map((p) => `--filter=@chainlog/${p}`)], { cwd: ROOT, stdio: 'ignore' })
  const out = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, ...PUBLISHED.map((p) => path.join(ROOT, 'packages', p))], dir)) as { filename: string }[]
  if (out.length !== PUBLISHED.length) throw new Error(`npm pack made ${out.length} tarballs, expected ${PUBLISHED.length}`)
  return Object.fromEntries(PUBLISHED.map((p, i) => [p, path.join(dir, out[i].filename)])) as Record<Published, string>
}

/**
 * Packs core, pino, winston and cli (and core's optional @chainlog/native) and installs the tarballs, with pino,
 * winston, fastify and pino-pretty (and `extra`, e.g. `['typescript']`), into
 * a new project in os.tmpdir(). `npm install --prefer-offline`: the cache where
 * it can, else the registry (a cache-only install fails on a fresh machine,
 * since `npm ci` never caches registry metadata).
 */
export function packedProject(options: { name?: string; extra?: string[] } = {}): PackedProject {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-packed-'))
  const tarballs = packAll(work)
  const project = path.join(work, 'project')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: options.name ?? 'chainlog-user', private: true }, null, 2))
  const peers = [...PEERS, ...(options.extra ?? [])].map((name) => `${name}@${repoVersion(name)}`)
  // core's optional dependency (#17), as the registry would serve it: its tarball, built from source at install where it can be.
  const native = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work, path.join(ROOT, 'packages', 'native')], work)) as { filename: string }[]
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...Object.values(tarballs), path.join(work, native[0].filename), ...peers], project)
  return {
    work,
    project,
    tarballs,
    npm: (args, cwd = project) => npm(args, cwd),
    bin: (name, args, cwd = project) => spawnSync(path.join(project, 'node_modules/.bin', name), args, { cwd, encoding: 'utf8' }),
    cleanup: () => fs.rmSync(work, { recursive: true, force: true }),
  }
}
