/**
 * The integration project's global setup: starts the run's one install of the
 * packed tarballs (test/helpers/packed.ts) without waiting for it, so that it
 * overlaps the tests that do not need it, and removes it when the run ends.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { TestProject } from 'vitest/node'
import { install, installDir } from './packed-install'

export default function setup(project: TestProject): () => Promise<void> {
  const work = installDir()
  const status = path.join(work, 'status.json')
  const done = install(work).then(
    (tarballs) => fs.writeFileSync(status, JSON.stringify({ tarballs })),
    (err: unknown) => fs.writeFileSync(status, JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
  )
  project.provide('packedInstall', { work, status })
  return async () => {
    await done
    fs.rmSync(work, { recursive: true, force: true })
  }
}
