// From a URL path to the mapping and the script that answer it (lighttpd reference 2-3): the
// textual key match first (pure), then, for check-local keys, a look at the files under the
// document root. No backend is contacted and nothing is sent here.
import path from 'node:path'
import { findMapping, splitPrefixPath } from '../cgi/mapping'
import { normalizeRequestTarget } from '../cgi/url-path'
import { isFile, probeScript } from './locate-script'
import type { TargetOverride } from './request-info'
import type { FastcgiConfig, HostConfig, MappingConfig } from './options'
import { ROOT_MOUNT } from './mount'
import type { Mount } from './mount'

export interface Route {
  readonly mapping: MappingConfig
  readonly scriptName: string
  readonly pathInfo: string
  /** document root the route was resolved in (an approving authorizer's docroot); default config.documentRoot */
  readonly documentRoot?: string
  /** the registration's prefix, in front of scriptName in SCRIPT_NAME (not in file paths) */
  readonly urlPrefix?: string
}

export type Resolution =
  | { readonly kind: 'route', readonly route: Route }
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'redirect', readonly location: string }

/** The request-target split into the decoded, normalized path and the query. */
export function parseTarget (method: string, rawTarget: string): TargetOverride {
  const { path: urlPath, query } = normalizeRequestTarget(rawTarget)
  return { method, rawTarget, path: urlPath, query }
}

/** The first host decides how a key is matched (check-local, fix-root-scriptname), as in lighttpd. */
function firstHost (mapping: MappingConfig): HostConfig {
  const host = mapping.hosts[0]
  if (host === undefined) throw new Error(`mapping ${mapping.key} has no host`)
  return host
}

/** A prefix key splits the path into SCRIPT_NAME and PATH_INFO; a suffix key takes it whole. */
export function routeByKey (mapping: MappingConfig, urlPath: string): Route {
  if (mapping.kind === 'prefix' && urlPath.startsWith(mapping.key)) {
    return { mapping, ...splitPrefixPath(mapping.key, urlPath, firstHost(mapping).fixRootScriptname) }
  }
  return { mapping, scriptName: urlPath, pathInfo: '' }
}

export class ScriptResolver {
  /** mappings with a responder host: what the plugin's routes serve */
  readonly responderKeys: readonly MappingConfig[]
  private readonly mappingsByKey: ReadonlyMap<string, MappingConfig>

  constructor (private readonly config: FastcgiConfig, readonly mount: Mount = ROOT_MOUNT) {
    this.responderKeys = config.mappings.filter((m) => m.hosts.some((h) => h.mode === 'responder'))
    this.mappingsByKey = new Map(config.mappings.map((m) => [m.key, m]))
  }

  mapping (key: string): MappingConfig | undefined {
    return this.mappingsByKey.get(key)
  }

  /** The path below the registration's prefix (the prefix itself is `/`); the path itself when outside it. */
  localPath (urlPath: string): string {
    const local = this.mount.local(urlPath)
    return local === undefined ? urlPath : local === '' ? '/' : local
  }

  /**
   * Does any responder key (or any of `keys`) match this URL path? The prefix is taken off first
   * (a path outside it is not ours); the textual match comes next; check-local keys then look
   * at the files under `documentRoot`. Routes and redirects come back in the client's URL space.
   */
  resolve (urlPath: string, documentRoot: string = this.config.documentRoot, keys: readonly MappingConfig[] = this.responderKeys): Resolution | Promise<Resolution> {
    const local = this.mount.local(urlPath)
    if (local === undefined) return { kind: 'not-ours' }
    const resolution = this.resolveLocal(local === '' ? '/' : local, documentRoot, keys)
    if (this.mount.prefix === '') return resolution
    return resolution instanceof Promise ? resolution.then((r) => this.toClient(r)) : this.toClient(resolution)
  }

  private toClient (resolution: Resolution): Resolution {
    if (resolution.kind === 'redirect') return { kind: 'redirect', location: this.mount.public(resolution.location) }
    if (resolution.kind === 'route') return { kind: 'route', route: { ...resolution.route, urlPrefix: this.mount.prefix } }
    return resolution
  }

  private resolveLocal (urlPath: string, documentRoot: string, keys: readonly MappingConfig[]): Resolution | Promise<Resolution> {
    const textual = findMapping(keys, urlPath, this.config.mapExtensions)
    // a key without check-local is decided by the URL alone: no promise
    if (textual !== undefined && !firstHost(textual).checkLocal) return { kind: 'route', route: routeByKey(textual, urlPath) }
    return this.resolveOnDisk(urlPath, documentRoot, keys, textual)
  }

  private async resolveOnDisk (urlPath: string, documentRoot: string, keys: readonly MappingConfig[], textual: MappingConfig | undefined): Promise<Resolution> {
    const { config } = this
    const probe = await probeScript(documentRoot, urlPath)
    if (probe.kind === 'forbidden') {
      // a script of ours that links out of the root is refused, not handed to the application
      const ours = textual !== undefined || (probe.scriptName !== undefined && findMapping(keys, probe.scriptName, config.mapExtensions) !== undefined)
      return ours ? { kind: 'forbidden' } : { kind: 'not-ours' }
    }
    if (probe.kind === 'directory') return this.resolveDirectory(urlPath, textual, documentRoot, keys)
    if (probe.kind === 'missing') {
      // a suffix key with check-local off may still take `/x.php` (no PATH_INFO, as lighttpd)
      return textual === undefined ? { kind: 'not-ours' } : { kind: 'not-found' }
    }
    const mapping = findMapping(keys, probe.scriptName, config.mapExtensions)
    if (mapping === undefined) return { kind: 'not-ours' }
    return { kind: 'route', route: { mapping, scriptName: probe.scriptName, pathInfo: probe.pathInfo } }
  }

  private async resolveDirectory (urlPath: string, textual: MappingConfig | undefined, documentRoot: string, keys: readonly MappingConfig[]): Promise<Resolution> {
    for (const index of this.config.indexFiles) {
      const candidate = urlPath.endsWith('/') ? urlPath + index : `${urlPath}/${index}`
      const mapping = findMapping(keys, candidate, this.config.mapExtensions)
      if (mapping === undefined || !await isFile(path.join(documentRoot, candidate), documentRoot)) continue
      // a directory is addressed with its trailing slash, so that relative links in it work
      if (!urlPath.endsWith('/')) return { kind: 'redirect', location: `${urlPath}/` }
      return { kind: 'route', route: { mapping, scriptName: candidate, pathInfo: '' } }
    }
    if (textual !== undefined && textual.kind === 'prefix') return { kind: 'route', route: routeByKey(textual, urlPath) }
    return { kind: 'not-ours' }
  }
}
