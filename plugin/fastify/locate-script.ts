// The filesystem half of lighttpd's request handling: which leading part of the URL path
// is an existing file (the rest is PATH_INFO), or whether it names a directory. The cgi
// layer stays pure; this is where the stat() calls happen.
//
// A script must really be inside the document root: one that symbolic links (in its name or
// in a directory above it) place elsewhere is forbidden, where lighttpd (follow-symlink on by
// default) would run it.
//
// Like lighttpd's stat cache, results are kept for a second (STAT_CACHE_TTL), keyed by the
// file's path: the kind of each path probed and, for files, its real location. A hot script
// then costs no stat() and no realpath() per request. The price is lighttpd's: for up to a
// second, a file that was removed, created or relinked is seen as it was. Permission
// failures (forbidden) are not kept. The backend opens SCRIPT_FILENAME itself, so a deploy
// that switches a link serves the new release at once; only the root check may use the
// old real path for that second, and a root that moved is looked up again (realRoot).
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

/** ms a stat() or realpath() result is reused */
const STAT_CACHE_TTL = 1000
/** paths kept; the oldest entry goes first */
const STAT_CACHE_LIMIT = 1024

class StatEntry {
  /** realpath() of a file: undefined until asked for, null when it failed */
  real: string | null | undefined = undefined
  constructor (readonly kind: StatKind, readonly expires: number) {}
}

const statCache = new Map<string, StatEntry>()

function cachedStat (file: string): StatEntry | undefined {
  const entry = statCache.get(file)
  if (entry === undefined) return undefined
  if (entry.expires > Date.now()) return entry
  statCache.delete(file)
  return undefined
}

async function statEntry (file: string): Promise<StatEntry> {
  const entry = new StatEntry(await statKind(file), Date.now() + STAT_CACHE_TTL)
  if (entry.kind !== 'forbidden') {
    // re-inserted at the end: the Map's order is the order of expiry
    statCache.delete(file)
    if (statCache.size >= STAT_CACHE_LIMIT) {
      const oldest = statCache.keys().next()
      if (oldest.done !== true) statCache.delete(oldest.value)
    }
    statCache.set(file, entry)
  }
  return entry
}

/** The kind of `file`, from the cache when it is fresh. */
function stat (file: string): StatEntry | Promise<StatEntry> {
  return cachedStat(file) ?? statEntry(file)
}

/** Forgets every kept stat() and realpath() result (tests that change files under a root). */
export function clearStatCache (): void {
  statCache.clear()
}

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
  const wholeFile = path.join(root, urlPath)
  const wholeEntry = await stat(wholeFile)
  const whole = wholeEntry.kind
  if (whole === 'file') return await insideRoot(root, wholeFile, wholeEntry) ? { kind: 'file', scriptName: urlPath, pathInfo: '' } : { kind: 'forbidden', scriptName: urlPath }
  if (whole === 'directory') return { kind: 'directory' }
  if (whole === 'forbidden') return { kind: 'forbidden' }
  if (whole === 'other') return { kind: 'forbidden' }
  for (let cut = urlPath.lastIndexOf('/'); cut > 0; cut = urlPath.lastIndexOf('/', cut - 1)) {
    const scriptName = urlPath.slice(0, cut)
    const file = path.join(root, scriptName)
    const entry = await stat(file)
    const kind = entry.kind
    if (kind === 'file') return await insideRoot(root, file, entry) ? { kind: 'file', scriptName, pathInfo: urlPath.slice(cut) } : { kind: 'forbidden', scriptName }
    if (kind !== 'missing') return kind === 'forbidden' ? { kind: 'forbidden' } : { kind: 'missing' }
  }
  return { kind: 'missing' }
}

/** A regular file; with `root`, also one whose real location is inside root. */
export async function isFile (file: string, root?: string): Promise<boolean> {
  const entry = await stat(file)
  if (entry.kind !== 'file') return false
  return root === undefined || await insideRoot(root, file, entry)
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
async function insideRoot (root: string, file: string, entry: StatEntry): Promise<boolean> {
  let real = entry.real
  if (real === undefined) {
    try {
      real = await fs.realpath(file)
    } catch {
      real = null
    }
    entry.real = real
  }
  if (real === null) return false
  const known = realRoots.get(root)
  if (known !== undefined && isPathInside(known, real)) return true
  const cached = known ?? await realRoot(root, false)
  if (cached !== undefined && isPathInside(cached, real)) return true
  const current = await realRoot(root, true)
  return current !== undefined && current !== cached && isPathInside(current, real)
}
