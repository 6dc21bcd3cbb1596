// A build of the package in a temp dir, laid out as an installed copy: package.json, dist/
// (tsc -p tsconfig.build.json), bin/ and examples/. Tests that run the bin script or the
// examples use it, so a fresh clone without dist/ works and the repository's dist/ is left
// alone. Dependencies resolve from the repository's node_modules through NODE_PATH.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from './tmp'
import type { TeardownHost } from './tmp'

export const REPO_ROOT = join(__dirname, '..', '..')

export interface PackageBuild {
  /** the package root (has package.json, dist/, bin/, examples/) */
  root: string
  /** environment for node processes that load the build (PATH and NODE_PATH) */
  env: NodeJS.ProcessEnv
}

/** Compiles the plugin into a fresh temp package (about 10 s); removed at t.teardown. */
export function buildPackage (t: TeardownHost): PackageBuild {
  const root = makeTempDir(t, 'ffcgi-pkg-')
  for (const entry of ['package.json', 'bin', 'examples']) {
    cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true })
  }
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', join(root, 'dist')], { encoding: 'utf8', timeout: 300_000 })
  // a type error elsewhere in the tree still emits JavaScript; what matters is the output
  if (!existsSync(join(root, 'dist', 'plugin', 'index.js')) || !existsSync(join(root, 'dist', 'plugin', 'lighttpd', 'index.js'))) {
    throw new Error(`tsc did not build the plugin:\n${tsc.stdout}${tsc.stderr}`)
  }
  return { root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: join(REPO_ROOT, 'node_modules') } }
}
