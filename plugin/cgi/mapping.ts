// Which configured key serves a path (lighttpd 2.2) and how a prefix key splits it (2.3).

export interface MappingKey {
  readonly key: string
  readonly kind: 'prefix' | 'suffix'
}

export function classifyKey (key: string): MappingKey {
  return { key, kind: key.startsWith('/') ? 'prefix' : 'suffix' }
}

function matches (mapping: MappingKey, path: string): boolean {
  // byte compare, case-sensitive, not segment-aware: `/app` takes `/application/x` (as lighttpd)
  return mapping.kind === 'prefix' ? path.startsWith(mapping.key) : path.endsWith(mapping.key)
}

export function findMapping<M extends MappingKey> (
  keys: readonly M[],
  path: string,
  mapExtensions?: ReadonlyMap<string, string> | Readonly<Record<string, string>>
): M | undefined {
  if (mapExtensions !== undefined) {
    const entries = mapExtensions instanceof Map ? mapExtensions.entries() : Object.entries(mapExtensions)
    for (const [from, to] of entries) {
      if (!path.endsWith(from)) continue
      const mapped = keys.find((k) => k.key === to)
      if (mapped !== undefined) return mapped
      break
    }
  }
  for (const mapping of keys) {
    if (matches(mapping, path)) return mapping
  }
  return undefined
}

export interface PathSplit {
  readonly scriptName: string
  readonly pathInfo: string
}

/** lighttpd 2.3: a prefix key's SCRIPT_NAME ends at the first `/` at or after the key. */
export function splitPrefixPath (key: string, path: string, fixRootScriptname: boolean): PathSplit {
  if (key === '/' && fixRootScriptname) return { scriptName: '', pathInfo: path }
  if (path.length > key.length) {
    const slash = path.indexOf('/', key.length)
    if (slash !== -1) return { scriptName: path.slice(0, slash), pathInfo: path.slice(slash) }
  }
  return { scriptName: path, pathInfo: '' }
}
