// The package as npm would publish it: built (tsc -p tsconfig.build.json), packed with
// `npm pack`, and unpacked into the node_modules of a fresh temp project. The project's other
// dependencies are symlinks to the repository's node_modules, so nothing is fetched: CI has
// only what `npm ci` already installed.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert'
import { buildPackage, REPO_ROOT } from '../helpers/package-build'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

export interface PackedPackage {
  /** the .tgz npm pack wrote */
  tarball: string
  /** the paths npm pack put in it, relative to the package root */
  files: string[]
}

/** Builds and packs the package (about 15 s); the temp dirs go at t.teardown. */
export function packPackage (t: TeardownHost): PackedPackage {
  const build = buildPackage(t)
  for (const file of ['README.md', 'SECURITY.md', 'LICENSE']) cpSync(join(REPO_ROOT, file), join(build.root, file))
  const destination = makeTempDir(t, 'ffcgi-tgz-')
  // --ignore-scripts: dist/ is already built; a prepack build would compile a second time
  const pack = spawnSync('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', destination], {
    cwd: build.root, encoding: 'utf8', timeout: 120_000
  })
  assert.equal(pack.status, 0, `npm pack failed:\n${pack.stdout}${pack.stderr}`)
  const report = JSON.parse(pack.stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  const entry = report[0]
  assert.ok(entry !== undefined, `npm pack printed no report:\n${pack.stdout}`)
  return { tarball: join(destination, entry.filename), files: entry.files.map((file) => file.path) }
}

/**
 * A temp project with the tarball unpacked as node_modules/fastify-fastcgi, the way `npm i`
 * lays it out, and every other dependency linked from the repository's node_modules.
 */
export function installIntoProject (t: TeardownHost, packed: PackedPackage): string {
  const project = makeTempDir(t, 'ffcgi-proj-')
  const modules = join(project, 'node_modules')
  const installed = join(modules, 'fastify-fastcgi')
  mkdirSync(installed, { recursive: true })
  const untar = spawnSync('tar', ['-xzf', packed.tarball, '-C', installed, '--strip-components=1'], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(untar.status, 0, `tar failed: ${untar.stderr}`)
  const repoModules = join(REPO_ROOT, 'node_modules')
  for (const name of readdirSync(repoModules)) {
    if (name === 'fastify-fastcgi' || name.startsWith('.')) continue
    symlinkSync(join(repoModules, name), join(modules, name), 'dir')
  }
  return project
}
