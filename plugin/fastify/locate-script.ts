// The filesystem half of lighttpd's request handling: which leading part of the URL path
// is an existing file (the rest is PATH_INFO), or whether it names a directory. The cgi
// layer stays pure; this is where the stat() calls happen.
//
// A script must really be inside the document root: one that symbolic links (in its name or
// in a directory above it) place elsewhere is forbidden, where lighttpd (follow-symlink on by
// default) would run it. That costs one realpath() per request that found a script.
import fs from 'node:fs/promises'
import path from 'node:path'
import { isPathInside } from '../cgi/url-path'

export type ScriptProbe =
  | { readonly kind: 'file', readonly scriptName: string, readonly pathInfo: string }
  | { readonly kind: 'directory' }
  | { readonly kind: 'missing' }
  /** scriptName: the script that exists but lies outside the root (a symbolic link out) */
  | { readonly kind: 'forbidden', readonly scriptName?: string }

type StatKind = 'file' | 'directory' | 'other' | 'missing' | 'forbidden'

async function statKind (file: string): Promise<StatKind> {
  try {
    const stat = await fs.stat(file)
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'EACCES' || code === 'EPERM' ? 'forbidden' : 'missing'
  }
}

/**
 * `urlPath` must be normalized (no dot-segments), so joining it to `root` cannot leave root.
 * Tries the whole path, then ever shorter leading parts, as lighttpd's core does.
 */
export async function probeScript (root: string, urlPath: string): Promise<ScriptProbe> {
  const whole = await statKind(path.join(root, urlPath))
  if (whole === 'file') return await insideRoot(root, path.join(root, urlPath)) ? { kind: 'file', scriptName: urlPath, pathInfo: '' } : { kind: 'forbidden', scriptName: urlPath }
  if (whole === 'directory') return { kind: 'directory' }
  if (whole === 'forbidden') return { kind: 'forbidden' }
  if (whole === 'other') return { kind: 'forbidden' }
  for (let cut = urlPath.lastIndexOf('/'); cut > 0; cut = urlPath.lastIndexOf('/', cut - 1)) {
    const scriptName = urlPath.slice(0, cut)
    const kind = await statKind(path.join(root, scriptName))
    if (kind === 'file') return await insideRoot(root, path.join(root, scriptName)) ? { kind: 'file', scriptName, pathInfo: urlPath.slice(cut) } : { kind: 'forbidden', scriptName }
    if (kind !== 'missing') return kind === 'forbidden' ? { kind: 'forbidden' } : { kind: 'missing' }
  }
  return { kind: 'missing' }
}

/** A regular file; with `root`, also one whose real location is inside root. */
export async function isFile (file: string, root?: string): Promise<boolean> {
  if (await statKind(file) !== 'file') return false
  return root === undefined || await insideRoot(root, file)
}

// realpath(root) per root as configured. Kept until a script falls outside it: then it is
// computed again, so that a root reached through a link that a deploy switches keeps working.
const REAL_ROOTS_LIMIT = 64
const realRoots = new Map<string, string>()

async function realRoot (root: string, fresh: boolean): Promise<string | undefined> {
  let real = fresh ? undefined : realRoots.get(root)
  if (real === undefined) {
    try {
      real = await fs.realpath(root)
    } catch {
      return undefined
    }
    if (realRoots.size >= REAL_ROOTS_LIMIT) realRoots.clear()
    realRoots.set(root, real)
  }
  return real
}

/** Whether the real location of `file` (every link followed) lies inside the real `root`. */
async function insideRoot (root: string, file: string): Promise<boolean> {
  let real: string
  try {
    real = await fs.realpath(file)
  } catch {
    return false
  }
  const cached = await realRoot(root, false)
  if (cached !== undefined && isPathInside(cached, real)) return true
  const current = await realRoot(root, true)
  return current !== undefined && current !== cached && isPathInside(current, real)
}
