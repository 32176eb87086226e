/**
 * What each published tarball holds, and what a company's review of a
 * dependency reads (issue #13): `npm pack --dry-run --json` lists the built
 * code, its declarations and sourcemaps, the sources those maps point to (no
 * tests), the ESM wrappers, README, LICENSE and package.json, and nothing
 * else; package.json names the repository, homepage and issue tracker; the
 * README's links work on the registry's page.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { PUBLISHED, ROOT } from './helpers/packed'

const REPO = 'https://github.com/chainlog/chainlog'

/** The files a package's tarball would hold, from npm itself. */
function packed(pkg: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: path.join(ROOT, 'packages', pkg), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path).sort()
}

const lists: Record<string, string[]> = {}

beforeAll(() => {
  execFileSync('npx', ['--no-install', 'turbo', 'run', 'build', ...PUBLISHED.map((p) => `--filter=@chainlog/${p}`)], { cwd: ROOT, stdio: 'ignore' })
  for (const pkg of PUBLISHED) lists[pkg] = packed(pkg)
}, 300_000)

// Built code with declarations and maps; the non-test sources the maps name; the ESM wrappers; the bins.
const ALLOWED = /^(package\.json|format\/package\.json|README\.md|LICENSE|dist\/[\w/-]+\.(js|d\.ts)(\.map)?|src\/[\w/-]+\.ts|esm\.mjs|esm\.d\.mts|bin\/[\w-]+\.js)$/

describe.each(PUBLISHED)('@chainlog/%s tarball', (pkg) => {
  const dir = path.join(ROOT, 'packages', pkg)

  test('holds dist, README, LICENSE, package.json, and nothing that is not shipped code', () => {
    const files = lists[pkg]
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']))
    if (pkg === 'pino' || pkg === 'winston') expect(files).toEqual(expect.arrayContaining(['esm.mjs', 'esm.d.mts']))
    if (pkg === 'cli') expect(files).toEqual(expect.arrayContaining(['bin/verify-log.js', 'bin/chainlog.js']))
    expect(files.filter((f) => !ALLOWED.test(f))).toEqual([])
    expect(files.filter((f) => /(^|\/)(test|tests|fixtures|__tests__)\//.test(f) || /\.test\.|\.spec\.|tsbuildinfo/.test(f))).toEqual([])
    expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/)
  })

  test('every sourcemap points at a source in the tarball, and every source is mapped', () => {
    const files = new Set(lists[pkg])
    const mapped = new Set<string>()
    for (const map of lists[pkg].filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(dir, map), 'utf8')) as { sources: string[] }
      for (const s of sources) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), s))
        expect(files.has(target), `${map} → ${target}`).toBe(true)
        mapped.add(target)
      }
    }
    expect(lists[pkg].filter((f) => f.startsWith('src/') && !mapped.has(f))).toEqual([])
  })

  test('package.json names the repository, homepage and issues', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    expect(json).toMatchObject({
      license: 'MIT',
      repository: { type: 'git', url: `git+${REPO}.git`, directory: `packages/${pkg}` },
      homepage: `${REPO}/tree/main/packages/${pkg}#readme`,
      bugs: { url: `${REPO}/issues` },
    })
  })

  test('README links are absolute, so they work on the registry page', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    expect(links.length).toBeGreaterThan(0)
    expect(links.filter((l) => !/^(https:\/\/|#)/.test(l))).toEqual([])
  })
})

// #17: the addon ships as sources and binding.gyp, built at install; never build output or a prebuilt binary.
describe('@chainlog/native tarball', () => {
  const dir = path.join(ROOT, 'packages', 'native')

  test('holds the C source, binding.gyp, the loader and its types, README, LICENSE and package.json, and no build output', () => {
    expect(packed('native')).toEqual(['LICENSE', 'README.md', 'binding.gyp', 'index.d.ts', 'index.js', 'install.js', 'package.json', 'src/chainlog_native.c', 'src/link.c', 'src/spans.c'])
  })

  test('package.json builds it at install, and @chainlog/core takes it as an optional dependency of the same version', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    expect(json).toMatchObject({
      license: 'MIT',
      gypfile: true,
      scripts: { install: 'node install.js' },
      repository: { type: 'git', url: `git+${REPO}.git`, directory: 'packages/native' },
      homepage: `${REPO}/tree/main/packages/native#readme`,
      bugs: { url: `${REPO}/issues` },
    })
    const core = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/core/package.json'), 'utf8'))
    expect(core.optionalDependencies).toEqual({ '@chainlog/native': json.version })
    expect(core.dependencies['@chainlog/native']).toBeUndefined()
  })

  test('README links are absolute, and LICENSE is the repository\'s', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    expect(links.length).toBeGreaterThan(0)
    expect(links.filter((l) => !/^(https:\/\/|#)/.test(l))).toEqual([])
    expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'))
  })
})

test('the repository has LICENSE and SECURITY.md, which points to the threat model', () => {
  expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'packages/core/LICENSE'), 'utf8'))
  const security = fs.readFileSync(path.join(ROOT, 'SECURITY.md'), 'utf8')
  expect(security).toMatch(/security\/advisories\/new/)
  expect(security).toMatch(/docs\/THREAT-MODEL\.md/)
  for (const heading of ['## Reporting a vulnerability', '## Supported versions', '## Scope']) expect(security).toContain(heading)
})
