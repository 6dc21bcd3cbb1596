// The responder path: from a Fastify request to a backend and back into the reply.
// Matching and the CGI environment come from cgi/, the transport from client/, the choice
// of backend from pool/; this file only wires them to Fastify.
import path from 'node:path'
import { finished } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { BackendClient } from '../client/backend-client'
import { connectFailureKind } from '../client/connect'
import type { FastcgiResponse } from '../client/exchange'
import { formatAddress } from '../client/address'
import { buildCgiParams, resolveScriptLocation } from '../cgi/params'
import { findMapping, splitPrefixPath } from '../cgi/mapping'
import { normalizeRequestTarget } from '../cgi/url-path'
import { Role } from '../protocol'
import type { BackendPool } from '../pool'
import type { Proc } from '../pool/types'
import { BadResponseHeaderError, NoBackendError, TooManyRedirectsError } from '../errors'
import { isFile, probeScript } from './locate-script'
import { prepareBody } from './request-body'
import type { PreparedBody } from './request-body'
import { buildRequestInfo } from './request-info'
import type { TargetOverride } from './request-info'
import type { FastcgiConfig, HostConfig, MappingConfig } from './options'

/** Options of `reply.fastcgi()`. */
export interface ReplyFastcgiOptions {
  /** the mapping key whose backends get the request (default: matched from the URL like the plugin's routes) */
  mapping?: string
  /** SCRIPT_FILENAME to send instead of the computed one */
  scriptFilename?: string
  /** extra CGI variables, appended after the computed ones */
  params?: Record<string, string>
}

interface Route {
  readonly mapping: MappingConfig
  readonly scriptName: string
  readonly pathInfo: string
}

type Resolution =
  | { readonly kind: 'route', readonly route: Route }
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'redirect', readonly location: string }

const MAX_BACKEND_ATTEMPTS = 5
const MAX_LOCAL_REDIRECTS = 5

// Hop-by-hop and gateway-private headers never go to the client (X-Sendfile and X-LIGHTTPD-*
// are consumed by the gateway even where it does not act on them, as lighttpd does).
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'x-sendfile'])

export class Gateway {
  private readonly clients = new Map<string, BackendClient>()
  private readonly mappingsByKey: ReadonlyMap<string, MappingConfig>
  private readonly keys: readonly MappingConfig[]

  constructor (private readonly config: FastcgiConfig, private readonly pool: BackendPool, private readonly log: FastifyBaseLogger) {
    this.keys = config.mappings.filter((m) => m.hosts.some((h) => h.mode === 'responder'))
    this.mappingsByKey = new Map(config.mappings.map((m) => [m.key, m]))
  }

  /** Does any responder key match this URL path? Cheap, used before the filesystem is asked. */
  async resolve (urlPath: string): Promise<Resolution> {
    const { config } = this
    const textual = findMapping(this.keys, urlPath, config.mapExtensions) as MappingConfig | undefined
    if (textual !== undefined && !(textual.hosts[0] as HostConfig).checkLocal) {
      if (textual.kind === 'prefix') {
        return { kind: 'route', route: { mapping: textual, ...splitPrefixPath(textual.key, urlPath, (textual.hosts[0] as HostConfig).fixRootScriptname) } }
      }
      return { kind: 'route', route: { mapping: textual, scriptName: urlPath, pathInfo: '' } }
    }
    const probe = await probeScript(config.documentRoot, urlPath)
    if (probe.kind === 'forbidden') return textual === undefined ? { kind: 'not-ours' } : { kind: 'forbidden' }
    if (probe.kind === 'directory') return this.resolveDirectory(urlPath, textual)
    if (probe.kind === 'missing') {
      // a suffix key with check-local off may still take `/x.php` (no PATH_INFO, as lighttpd)
      return textual === undefined ? { kind: 'not-ours' } : { kind: 'not-found' }
    }
    const mapping = findMapping(this.keys, probe.scriptName, config.mapExtensions) as MappingConfig | undefined
    if (mapping === undefined) return { kind: 'not-ours' }
    return { kind: 'route', route: { mapping, scriptName: probe.scriptName, pathInfo: probe.pathInfo } }
  }

  private async resolveDirectory (urlPath: string, textual: MappingConfig | undefined): Promise<Resolution> {
    for (const index of this.config.indexFiles) {
      const candidate = urlPath.endsWith('/') ? urlPath + index : `${urlPath}/${index}`
      const mapping = findMapping(this.keys, candidate, this.config.mapExtensions) as MappingConfig | undefined
      if (mapping === undefined || !await isFile(path.join(this.config.documentRoot, candidate))) continue
      // a directory is addressed with its trailing slash, so that relative links in it work
      if (!urlPath.endsWith('/')) return { kind: 'redirect', location: `${urlPath}/` }
      return { kind: 'route', route: { mapping, scriptName: candidate, pathInfo: '' } }
    }
    if (textual !== undefined && textual.kind === 'prefix') {
      return { kind: 'route', route: { mapping: textual, ...splitPrefixPath(textual.key, urlPath, (textual.hosts[0] as HostConfig).fixRootScriptname) } }
    }
    return { kind: 'not-ours' }
  }

  /** The handler of the plugin's routes. */
  async handleRoute (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    const resolution = await this.resolve(target.path)
    switch (resolution.kind) {
      case 'not-ours':
      case 'not-found':
        reply.callNotFound()
        return reply
      case 'forbidden':
        return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Forbidden' })
      case 'redirect': {
        const query = target.query === '' ? '' : `?${target.query}`
        return reply.redirect(resolution.location + query, 301)
      }
      case 'route':
        return this.serve(request, reply, resolution.route, target, {}, 0)
    }
  }

  /** `reply.fastcgi(options)` from any route of the application. */
  async handleReply (request: FastifyRequest, reply: FastifyReply, options: ReplyFastcgiOptions): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    let route: Route | undefined
    if (options.mapping !== undefined) {
      const mapping = this.mappingsByKey.get(options.mapping)
      if (mapping === undefined) throw new NoBackendError(`no mapping ${JSON.stringify(options.mapping)}`)
      route = mapping.kind === 'prefix' && target.path.startsWith(mapping.key)
        ? { mapping, ...splitPrefixPath(mapping.key, target.path, (mapping.hosts[0] as HostConfig).fixRootScriptname) }
        : { mapping, scriptName: target.path, pathInfo: '' }
    } else {
      const resolution = await this.resolve(target.path)
      if (resolution.kind === 'route') route = resolution.route
      else route = { mapping: this.keys[0] as MappingConfig, scriptName: target.path, pathInfo: '' }
    }
    return this.serve(request, reply, route, target, options, 0)
  }

  private async serve (request: FastifyRequest, reply: FastifyReply, route: Route, target: TargetOverride, overrides: ReplyFastcgiOptions, redirects: number): Promise<FastifyReply | undefined> {
    const { config } = this
    const prepared: PreparedBody = redirects > 0
      ? { body: undefined, length: 0, dispose: () => {} }
      : await prepareBody({
        parsed: request.body,
        raw: request.raw,
        contentLength: request.headers['content-length'],
        transferEncoding: request.headers['transfer-encoding'],
        method: request.method
      }, { bodyLimit: request.routeOptions.bodyLimit ?? 1048576, spoolMemoryLimit: config.spoolMemoryLimit, spoolDirectory: config.spoolDirectory })
    reply.raw.once('close', prepared.dispose)

    const info = buildRequestInfo(request, target, prepared.length, config.serverSoftware, config.serverName)
    const abort = new AbortController()
    const onClientGone = (): void => {
      if (!reply.raw.writableFinished) abort.abort()
    }
    reply.raw.once('close', onClientGone)
    const extra = overrides.params === undefined ? undefined : Object.entries(overrides.params)
    const hint = { path: target.path, host: (request.headers.host ?? '').toLowerCase(), clientAddress: request.ip }
    const tried = new Set<Proc>()
    let response: FastcgiResponse | undefined
    let proc: Proc | undefined
    let lastError: unknown
    for (let attempt = 0; attempt < MAX_BACKEND_ATTEMPTS && response === undefined; attempt++) {
      proc = this.pool.pick(route.mapping.key, hint, tried)
      if (proc === undefined) break
      tried.add(proc)
      const host = this.hostFor(route.mapping, proc)
      const location = resolveScriptLocation({
        scriptName: route.scriptName,
        pathInfo: route.pathInfo,
        documentRoot: config.documentRoot,
        docroot: host.docroot,
        brokenScriptfilename: host.brokenScriptfilename
      })
      const params = buildCgiParams(info, overrides.scriptFilename === undefined ? location : { ...location, scriptFilename: overrides.scriptFilename }, {
        role: 'responder',
        stripRequestUri: host.stripRequestUri,
        extraVariables: extra
      })
      const backendName = `${host.name === '' ? route.mapping.key : host.name} ${formatAddress(proc.address)}`
      try {
        response = await this.clientFor(proc, host).request({
          role: Role.RESPONDER,
          params,
          body: prepared.body,
          signal: abort.signal,
          onStderr: (chunk) => logStderr(request.log, backendName, chunk)
        })
        this.pool.reportConnect(proc, 'connected')
      } catch (err) {
        this.pool.release(proc)
        const failure = connectFailureKind(err)
        if (failure === undefined) throw err
        this.pool.reportConnect(proc, failure)
        request.log.warn({ backend: backendName, err }, 'FastCGI backend unreachable; trying another one')
        lastError = err
      }
    }
    if (response === undefined || proc === undefined) {
      reply.header('retry-after', String(this.pool.retryAfterSeconds(route.mapping.key)))
      throw lastError ?? new NoBackendError(`every backend for ${route.mapping.key} is down or disabled`)
    }
    const picked = proc
    finished(response.body, () => this.pool.release(picked))

    const local = localRedirectTarget(response)
    if (local !== undefined) {
      response.body.resume()
      if (redirects >= MAX_LOCAL_REDIRECTS) throw new TooManyRedirectsError(MAX_LOCAL_REDIRECTS)
      const next = parseTarget('GET', local)
      const resolution = await this.resolve(next.path)
      if (resolution.kind === 'route') return this.serve(request, reply, resolution.route, next, {}, redirects + 1)
      // not one of ours: let the client follow it
      return reply.redirect(local, 302)
    }
    return this.sendResponse(request, reply, response)
  }

  private sendResponse (request: FastifyRequest, reply: FastifyReply, response: FastcgiResponse): FastifyReply {
    const status = response.status
    if (status > 599) {
      // Node serves 600-999, but Fastify refuses them; a backend should not depend on them.
      // The backend's headers and body must not go out with the 502: drain and answer an error.
      request.log.warn({ status }, 'FastCGI backend sent a status above 599; answering 502')
      response.body.resume()
      throw new BadResponseHeaderError(`Status ${status} is above 599`)
    }
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of response.headers) {
      const lower = name.toLowerCase()
      if (DROPPED_RESPONSE_HEADERS.has(lower) || lower.startsWith('x-lighttpd-')) continue
      const existing = headers[lower]
      if (existing === undefined) headers[lower] = value
      else if (Array.isArray(existing)) existing.push(value)
      else headers[lower] = [existing, value]
    }
    reply.code(status)
    reply.headers(headers)
    if (request.method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      // no body goes out: drain the backend so its connection is freed
      response.body.resume()
      return reply.send()
    }
    return reply.send(response.body)
  }

  private hostFor (mapping: MappingConfig, proc: Proc): HostConfig {
    return mapping.hosts.find((h) => h.name === proc.name && h.mode === 'responder') ?? (mapping.hosts[0] as HostConfig)
  }

  private clientFor (proc: Proc, host: HostConfig): BackendClient {
    const key = formatAddress(proc.address)
    let client = this.clients.get(key)
    if (client === undefined) {
      client = new BackendClient({
        address: proc.address,
        connectTimeout: host.connectTimeout,
        readTimeout: host.readTimeout,
        writeTimeout: host.writeTimeout,
        keepAlive: host.keepAlive,
        keepAliveMaxIdle: host.keepAliveMaxIdle,
        keepAliveTimeout: host.keepAliveTimeout,
        maxConcurrency: host.maxConcurrency,
        queueLimit: host.queueLimit,
        queueTimeout: host.queueTimeout,
        headerLimit: this.config.headerLimit
      })
      this.clients.set(key, client)
    }
    return client
  }

  /** Stop taking requests on kept connections; requests in flight finish. */
  close (): void {
    for (const client of this.clients.values()) client.close()
  }

  destroy (): void {
    for (const client of this.clients.values()) client.destroy()
    this.clients.clear()
  }

  get logger (): FastifyBaseLogger {
    return this.log
  }
}

function parseTarget (method: string, rawTarget: string): TargetOverride {
  const { path: urlPath, query } = normalizeRequestTarget(rawTarget)
  return { method, rawTarget, path: urlPath, query }
}

/** RFC 3875 6.2.2: a Location holding a local path, without Status, is served internally. */
function localRedirectTarget (response: FastcgiResponse): string | undefined {
  const location = response.location
  if (location === undefined || !response.localRedirect) return undefined
  return location
}

function logStderr (log: FastifyBaseLogger, backend: string, chunk: Buffer): void {
  for (const line of chunk.toString('utf8').split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    if (text !== '') log.warn({ backend }, `FastCGI-stderr: ${text.length > 4096 ? `${text.slice(0, 4096)}...` : text}`)
  }
}
