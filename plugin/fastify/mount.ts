// Where a registration sits in the application's URL space. A prefix (`register(fastcgi,
// { prefix: '/php' })`, fastify-cli's --prefix, an @fastify/autoload folder) works like
// lighttpd's alias.url in front of the mapping: the prefix is taken off before the keys are
// matched and the script is looked up under documentRoot (`/php/x.php` runs
// `<documentRoot>/x.php`), and it stays in the variables that describe the client's URL:
// SCRIPT_NAME is `/php/x.php` (so a script's self-links work), REQUEST_URI is the target as sent.
import http from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InvalidOptionError } from '../errors'

export class Mount {
  /** `/php`, never with a trailing `/`; '' at the root */
  readonly prefix: string

  constructor (prefix: string) {
    this.prefix = prefix.replace(/\/+$/, '')
  }

  /** The path below the prefix (`/x.php`), '' for the prefix itself, undefined when outside it. */
  local (urlPath: string): string | undefined {
    const { prefix } = this
    if (prefix === '') return urlPath
    if (urlPath === prefix) return ''
    return urlPath.startsWith(prefix) && urlPath.charCodeAt(prefix.length) === 0x2f ? urlPath.slice(prefix.length) : undefined
  }

  /** The client's URL of a path below the prefix. */
  public (localPath: string): string {
    return this.prefix + localPath
  }
}

export const ROOT_MOUNT = new Mount('')

/**
 * The prefix the registration answers under: the context's (fastify.prefix, from an enclosing
 * register, fastify-cli or autoload) followed by the plugin's own `prefix` option, which Fastify
 * does not apply to a fastify-plugin itself.
 */
export function mountOf (contextPrefix: string, own: unknown): { mount: Mount, own: string } {
  if (own !== undefined && typeof own !== 'string') throw new InvalidOptionError(`prefix must be a URL path such as '/php', got ${JSON.stringify(own)}`)
  let ownPrefix = (own ?? '').replace(/\/+$/, '')
  if (ownPrefix !== '' && !ownPrefix.startsWith('/')) ownPrefix = `/${ownPrefix}`
  const full = contextPrefix.replace(/\/+$/, '') + ownPrefix
  // a parameter in the prefix (autoload's `_id` folders) is matched by the router, not textually
  if (/[:*?#]/.test(full)) throw new InvalidOptionError(`prefix ${JSON.stringify(full)} holds a route parameter or wildcard: expected a fixed path such as '/php' (register the plugin outside parameterised prefixes)`)
  return { mount: new Mount(full), own: ownPrefix }
}

/**
 * `methods`: the methods Fastify does not know yet are added (with a body, as WebDAV's PROPFIND
 * and LOCK carry XML) before the routes are made, which then take them along with the rest.
 */
export function checkMethods (methods: unknown): readonly string[] {
  if (methods === undefined) return []
  if (!Array.isArray(methods)) throw new InvalidOptionError(`methods must be a list of HTTP methods such as ['PROPFIND', 'MKCOL'], got ${JSON.stringify(methods)}`)
  return methods.map((method: unknown, i) => {
    if (typeof method !== 'string' || !http.METHODS.includes(method)) {
      const hint = typeof method === 'string' && http.METHODS.includes(method.toUpperCase()) ? ` (methods are upper case: '${method.toUpperCase()}')` : ''
      throw new InvalidOptionError(`methods[${i}] is ${JSON.stringify(method)}, not a method Node's HTTP parser accepts${hint}: expected one of ${http.METHODS.join(', ')}`)
    }
    return method
  })
}

/** Whether the request meets a `host` route constraint (the rest are left to the router). */
export function meetsHostConstraint (constraints: Record<string, unknown> | undefined, request: FastifyRequest): boolean {
  const wanted = constraints?.host
  if (wanted === undefined) return true
  // the router's own derivation (find-my-way): HTTP/2 names the host in :authority, and a
  // request its routes take must not pass their authorizer by sending no Host header
  const header = request.headers.host
  const authority = request.headers[':authority']
  const host = header !== undefined && header !== '' ? header : typeof authority === 'string' ? authority : ''
  if (wanted instanceof RegExp) return new RegExp(wanted.source, wanted.flags.replace(/[gy]/g, '')).test(host)
  return typeof wanted === 'string' ? host === wanted : true
}

/** Adds the `methods` Fastify does not know yet (for the whole application: Fastify's list is global). */
export function addMethods (fastify: FastifyInstance, methods: readonly string[]): void {
  for (const method of methods) {
    if (!fastify.supportedMethods.includes(method)) fastify.addHttpMethod(method, { hasBody: true })
  }
}
