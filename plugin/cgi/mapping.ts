// Which configured key serves a path (lighttpd reference 1.3, 2.2) and how a prefix key splits
// the path into SCRIPT_NAME and PATH_INFO (2.3).
import { InvalidOptionError } from '../errors'

export interface MappingKey {
  readonly key: string
  readonly kind: 'prefix' | 'suffix'
}

export interface PathSplit {
  readonly scriptName: string
  readonly pathInfo: string
}

/** A key starting with `/` is a URL-path prefix, anything else a suffix ("extension"). */
export function classifyKey (key: string): MappingKey {
  // an empty suffix would silently take every request
  if (key === '') throw new InvalidOptionError("mapping key '' is neither an extension nor a prefix")
  return { key, kind: key.charCodeAt(0) === 0x2f ? 'prefix' : 'suffix' }
}

// Case-sensitive and not segment-aware on purpose: lighttpd's `/app` takes `/application/x`,
// and configurations written for lighttpd rely on that.
function matches (mapping: MappingKey, path: string): boolean {
  return mapping.kind === 'prefix' ? path.startsWith(mapping.key) : path.endsWith(mapping.key)
}

/**
 * map-extensions first (only the first entry whose key ends the path counts; if the key it
 * maps to is not configured, normal matching decides), then the keys in order.
 * Generic so that callers get their own richer key objects back.
 */
export function findMapping<M extends MappingKey> (
  keys: readonly M[],
  path: string,
  mapExtensions?: ReadonlyMap<string, string> | Readonly<Record<string, string>>
): M | undefined {
  if (mapExtensions !== undefined) {
    const mapped = mappedExtension(path, mapExtensions)
    if (mapped !== undefined) {
      for (const k of keys) {
        if (k.key === mapped) return k
      }
    }
  }
  for (const k of keys) {
    if (k.key !== '' && matches(k, path)) return k
  }
  return undefined
}

function mappedExtension (
  path: string,
  mapExtensions: ReadonlyMap<string, string> | Readonly<Record<string, string>>
): string | undefined {
  if (mapExtensions instanceof Map) {
    for (const [from, to] of mapExtensions) {
      if (from !== '' && path.endsWith(from)) return to
    }
    return undefined
  }
  for (const from of Object.keys(mapExtensions)) {
    if (from !== '' && path.endsWith(from)) return (mapExtensions as Readonly<Record<string, string>>)[from]
  }
  return undefined
}

/**
 * lighttpd 2.3 (check-local disabled): SCRIPT_NAME ends at the first `/` at or after the end
 * of the key, PATH_INFO is the rest. Key `/` with fix-root-scriptname sends the whole path as
 * PATH_INFO and an empty SCRIPT_NAME (for WSGI-style apps mounted at the root).
 * `path` is expected to start with `key` (findMapping chose it).
 */
export function splitPrefixPath (key: string, path: string, fixRootScriptname: boolean): PathSplit {
  if (fixRootScriptname && key === '/') return { scriptName: '', pathInfo: path }
  if (path.length > key.length) {
    const slash = path.indexOf('/', key.length)
    if (slash !== -1) return { scriptName: path.slice(0, slash), pathInfo: path.slice(slash) }
  }
  return { scriptName: path, pathInfo: '' }
}
