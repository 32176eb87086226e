// The four published packages as a user meets them (issue #13): built, packed
// with `npm pack`, and installed from the tarballs into a project outside the
// repository, next to the real pino, winston and fastify.
//
// One install serves the whole run: test/helpers/packed-setup.ts (the
// integration project's global setup) starts it in the background when the
// run starts (test/helpers/packed-install.ts), and packedProject() waits for
// it and gives each test file a directory of its own inside that project.
// Installing once instead of once a file takes about a minute off the suite,
// and the install overlaps the tests that do not need it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { inject } from 'vitest'
import { PUBLISHED, ROOT, type PackedInstall, type Published } from './packed-install'

export { PUBLISHED, ROOT, type Published }

declare module 'vitest' {
  export interface ProvidedContext {
    packedInstall: PackedInstall
  }
}

export interface PackedProject {
  /** The directory holding the tarballs and the project. */
  work: string
  /** This test file's directory in the user's project: none of the repository, and its own files only. */
  project: string
  /** Path of each package's tarball. */
  tarballs: Record<Published, string>
  /** Runs an executable installed in the project's node_modules/.bin. */
  bin(name: string, args: string[], cwd?: string): SpawnSyncReturns<string>
  /** Removes this file's directory. */
  cleanup(): void
}

/** Blocks until the run's install has written its status (beforeAll is synchronous in these files). */
function awaitInstall(status: string, timeoutMs: number): Record<Published, string> {
  const deadline = Date.now() + timeoutMs
  const tick = new Int32Array(new SharedArrayBuffer(4))
  while (!fs.existsSync(status)) {
    if (Date.now() > deadline) throw new Error(`the packed install did not finish in ${timeoutMs / 1000} s (${status})`)
    Atomics.wait(tick, 0, 0, 200)
  }
  const done = JSON.parse(fs.readFileSync(status, 'utf8')) as { tarballs?: Record<Published, string>; error?: string }
  if (!done.tarballs) throw new Error(`the packed install failed: ${done.error}`)
  return done.tarballs
}

/**
 * The user's project with the packed tarballs installed, and a directory of
 * this test file's own in it (`name`), so that files running side by side
 * never see each other's logs. Call it in beforeAll.
 */
export function packedProject(options: { name: string }): PackedProject {
  const { work, status } = inject('packedInstall')
  const tarballs = awaitInstall(status, 280_000)
  const root = path.join(work, 'project')
  const project = fs.mkdtempSync(path.join(root, `${options.name}-`))
  return {
    work,
    project,
    tarballs,
    bin: (name, args, cwd = project) => spawnSync(path.join(root, 'node_modules/.bin', name), args, { cwd, encoding: 'utf8' }),
    cleanup: () => fs.rmSync(project, { recursive: true, force: true }),
  }
}
