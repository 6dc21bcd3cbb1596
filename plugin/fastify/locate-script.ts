// The filesystem half of lighttpd's request handling: which leading part of the URL path
// is an existing file (the rest is PATH_INFO), or whether it names a directory. The cgi
// layer stays pure; this is where the stat() calls happen.
import fs from 'node:fs/promises'
import path from 'node:path'

export type ScriptProbe =
  | { readonly kind: 'file', readonly scriptName: string, readonly pathInfo: string }
  | { readonly kind: 'directory' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'forbidden' }

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
  if (whole === 'file') return { kind: 'file', scriptName: urlPath, pathInfo: '' }
  if (whole === 'directory') return { kind: 'directory' }
  if (whole === 'forbidden') return { kind: 'forbidden' }
  if (whole === 'other') return { kind: 'forbidden' }
  for (let cut = urlPath.lastIndexOf('/'); cut > 0; cut = urlPath.lastIndexOf('/', cut - 1)) {
    const kind = await statKind(path.join(root, urlPath.slice(0, cut)))
    if (kind === 'file') return { kind: 'file', scriptName: urlPath.slice(0, cut), pathInfo: urlPath.slice(cut) }
    if (kind !== 'missing') return kind === 'forbidden' ? { kind: 'forbidden' } : { kind: 'missing' }
  }
  return { kind: 'missing' }
}

export async function isFile (file: string): Promise<boolean> {
  return await statKind(file) === 'file'
}
