// The responder path: from a Fastify request to a backend and back into the reply.
// Matching and the CGI environment come from cgi/, the transport from client/, the choice
// of backend from pool/; this file only wires them to Fastify.
import path from 'node:path'
import { finished } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { BackendClient } from '../client/backend-client'
import { connectFailureKind } from '../client/connect'
import { Cancellation, cancellationFromSignal } from '../client/cancellation'
import type { FastcgiResponse, RequestBody } from '../client/exchange'
import { formatAddress } from '../client/address'
import { buildCgiParams, isGatewayVariable, resolveScriptLocation } from '../cgi/params'
import { findMapping, splitPrefixPath } from '../cgi/mapping'
import { normalizeRequestTarget } from '../cgi/url-path'
import { checkTransferEncoding, decodeChunkedBody } from '../cgi/chunked-body'
import { Role } from '../protocol'
import type { BackendPool } from '../pool'
import type { PickHint, Proc } from '../pool/types'
import { BadResponseHeaderError, NoBackendError, OverloadedError, QueueFullError, QueueTimeoutError, TooManyRedirectsError } from '../errors'
import { isFile, probeScript } from './locate-script'
import { dechunkBody, limitToContentLength, takeContentLength } from './content-length'
import { NONE, prepareBody } from './request-body'
import { buildRequestInfo } from './request-info'
import type { TargetOverride } from './request-info'
import { authorizedDocroot, peekVariables } from './request-state'
import { serveFromDocroot } from './static-docroot'
import { findSendfileDirective, replyWithSendfile } from './x-sendfile'
import { backendLabel, RequestMetrics } from '../pool/metrics'
import type { RequestMeasure } from '../pool/metrics'
import { measureRequest } from './request-metrics'
import { StderrLog } from './stderr-log'
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

export interface Route {
  readonly mapping: MappingConfig
  readonly scriptName: string
  readonly pathInfo: string
  /** document root the route was resolved in (an approving authorizer's docroot); default config.documentRoot */
  readonly documentRoot?: string
}

/** One request to one of a mapping's backends, as dispatch() sends it. */
export interface Dispatch {
  readonly mapping: MappingConfig
  readonly role: 'responder' | 'authorizer'
  /** which of the mapping's hosts (of that role) may take it; default all */
  readonly accept?: (host: HostConfig) => boolean
  /** the params for the host that was picked (docroot and the like are per host) */
  readonly params: (host: HostConfig) => Array<[string, string]>
  readonly body: RequestBody | undefined
  /** cancelled when the client goes away (the responder path); or, for callers that have one, */
  readonly cancellation?: Cancellation
  /** an AbortSignal to the same end */
  readonly signal?: AbortSignal
  readonly hint: PickHint
  /** observability: this request's figures (the responder path sets it) */
  readonly measure?: RequestMeasure
}

export interface Dispatched {
  readonly response: FastcgiResponse
  readonly host: HostConfig
}

export type Resolution =
  | { readonly kind: 'route', readonly route: Route }
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'redirect', readonly location: string }

const MAX_BACKEND_ATTEMPTS = 5
const MAX_LOCAL_REDIRECTS = 5
/** ms a request waits for a backend process that is being spawned */
const SPAWN_WAIT = 5000

// Hop-by-hop and gateway-private headers never go to the client (X-Sendfile and X-LIGHTTPD-*
// are consumed by the gateway even where it does not act on them, as lighttpd does).
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'x-sendfile'])

export class Gateway {
  private readonly clients = new Map<string, BackendClient>()
  private clientsByProc = new WeakMap<Proc, BackendClient>()
  private readonly mappingsByKey: ReadonlyMap<string, MappingConfig>
  private readonly keys: readonly MappingConfig[]

  constructor (private readonly config: FastcgiConfig, private readonly pool: BackendPool, private readonly log: FastifyBaseLogger, readonly metrics: RequestMetrics = new RequestMetrics()) {
    this.keys = config.mappings.filter((m) => m.hosts.some((h) => h.mode === 'responder'))
    this.mappingsByKey = new Map(config.mappings.map((m) => [m.key, m]))
  }

  /**
   * Does any responder key (or any of `keys`) match this URL path? The textual match comes
   * first; check-local keys then look at the files under `documentRoot`.
   */
  resolve (urlPath: string, documentRoot: string = this.config.documentRoot, keys: readonly MappingConfig[] = this.keys): Resolution | Promise<Resolution> {
    const textual = findMapping(keys, urlPath, this.config.mapExtensions)
    // a key without check-local is decided by the URL alone: no promise
    if (textual !== undefined && !(textual.hosts[0] as HostConfig).checkLocal) {
      if (textual.kind === 'prefix') {
        return { kind: 'route', route: { mapping: textual, ...splitPrefixPath(textual.key, urlPath, (textual.hosts[0] as HostConfig).fixRootScriptname) } }
      }
      return { kind: 'route', route: { mapping: textual, scriptName: urlPath, pathInfo: '' } }
    }
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
    if (textual !== undefined && textual.kind === 'prefix') {
      return { kind: 'route', route: { mapping: textual, ...splitPrefixPath(textual.key, urlPath, (textual.hosts[0] as HostConfig).fixRootScriptname) } }
    }
    return { kind: 'not-ours' }
  }

  /** The handler of the plugin's routes. */
  async handleRoute (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    // an approving authorizer with a docroot moved the request there (lighttpd's restart)
    const docroot = authorizedDocroot(request)
    let pending = this.resolve(target.path, docroot)
    if (pending instanceof Promise) pending = await pending
    const resolution = pending
    switch (resolution.kind) {
      case 'not-ours':
      case 'not-found':
        if (docroot !== undefined) return serveFromDocroot(request, reply, docroot, target.path)
        reply.callNotFound()
        return reply
      case 'forbidden':
        return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Forbidden' })
      case 'redirect': {
        const query = target.query === '' ? '' : `?${target.query}`
        return reply.redirect(resolution.location + query, 301)
      }
      case 'route':
        return this.serve(request, reply, docroot === undefined ? resolution.route : { ...resolution.route, documentRoot: docroot }, target, {}, 0)
    }
  }

  /** `reply.fastcgi(options)` from any route of the application. */
  async handleReply (request: FastifyRequest, reply: FastifyReply, options: ReplyFastcgiOptions): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    const docroot = authorizedDocroot(request)
    let route: Route | undefined
    if (options.mapping !== undefined) {
      const mapping = this.mappingsByKey.get(options.mapping)
      if (mapping === undefined) throw new NoBackendError(`no mapping ${JSON.stringify(options.mapping)}`)
      route = mapping.kind === 'prefix' && target.path.startsWith(mapping.key)
        ? { mapping, ...splitPrefixPath(mapping.key, target.path, (mapping.hosts[0] as HostConfig).fixRootScriptname) }
        : { mapping, scriptName: target.path, pathInfo: '' }
    } else {
      const resolution = await this.resolve(target.path, docroot)
      if (resolution.kind === 'route') route = resolution.route
      else {
        const first = this.keys[0]
        if (first === undefined) throw new NoBackendError('no responder mapping is configured')
        route = { mapping: first, scriptName: target.path, pathInfo: '' }
      }
    }
    return this.serve(request, reply, docroot === undefined ? route : { ...route, documentRoot: docroot }, target, options, 0)
  }

  private async serve (request: FastifyRequest, reply: FastifyReply, route: Route, target: TargetOverride, overrides: ReplyFastcgiOptions, redirects: number): Promise<FastifyReply | undefined> {
    const { config } = this
    const measure = measureRequest(this.metrics, request, reply, route.mapping.key)
    let prepared = redirects > 0
      ? NONE
      : prepareBody({
        parsed: request.body,
        raw: request.raw,
        contentLength: request.headers['content-length'],
        transferEncoding: request.headers['transfer-encoding'],
        method: request.method
      }, { bodyLimit: request.routeOptions.bodyLimit ?? 1048576, spoolMemoryLimit: config.spoolMemoryLimit, spoolDirectory: config.spoolDirectory })
    if (prepared instanceof Promise) prepared = await prepared
    const body = prepared
    const info = buildRequestInfo(request, target, body.length, config.serverSoftware, config.serverName)
    const cancellation = new Cancellation()
    // one listener for both: the client going away cancels the backend request, and a
    // spooled body's temp file goes with the reply
    const onClose = (): void => {
      body.dispose()
      if (!reply.raw.writableFinished) cancellation.cancel()
    }
    reply.raw.once('close', onClose)
    const extra = extraVariables(request, overrides.params)
    const documentRoot = route.documentRoot ?? config.documentRoot
    const { response, host } = await this.dispatch(request, reply, {
      mapping: route.mapping,
      role: 'responder',
      body: body.body,
      cancellation,
      measure,
      hint: new RequestHint(request, target.path),
      params: (host) => {
        const location = resolveScriptLocation({
          scriptName: route.scriptName,
          pathInfo: route.pathInfo,
          documentRoot,
          docroot: host.docroot,
          brokenScriptfilename: host.brokenScriptfilename
        })
        return buildCgiParams(info, overrides.scriptFilename === undefined ? location : { ...location, scriptFilename: overrides.scriptFilename }, {
          role: 'responder',
          stripRequestUri: host.stripRequestUri,
          extraVariables: extra
        })
      }
    })

    const local = localRedirectTarget(response)
    if (local !== undefined) {
      discardBody(response)
      // this hop is over: its listener must not pile up on the reply (5 hops: 5 more)
      reply.raw.removeListener('close', onClose)
      body.dispose()
      if (redirects >= MAX_LOCAL_REDIRECTS) throw new TooManyRedirectsError(MAX_LOCAL_REDIRECTS)
      const next = parseTarget('GET', local)
      const resolution = await this.resolve(next.path, documentRoot)
      if (resolution.kind === 'route') return this.serve(request, reply, route.documentRoot === undefined ? resolution.route : { ...resolution.route, documentRoot }, next, {}, redirects + 1)
      // not one of ours: let the client follow it
      return reply.redirect(local, 302)
    }
    return this.sendResponse(request, reply, response, host)
  }

  /**
   * Picks a backend of the mapping (the pool balances), sends the request, and tries another
   * backend when one cannot be reached (up to MAX_BACKEND_ATTEMPTS). Resolves at the response
   * head; the backend is released once its body has been read. None reachable: NoBackendError
   * (or the last connect error), 503 with Retry-After.
   */
  async dispatch (request: FastifyRequest, reply: FastifyReply, d: Dispatch): Promise<Dispatched> {
    const tried = new Set<Proc>()
    const cancellation = d.cancellation ?? (d.signal === undefined ? undefined : cancellationFromSignal(d.signal))
    let lastError: unknown
    let attempts = 0
    let waitedForSpawn = false
    // bounded: each turn either counts an attempt or excludes one more process for good
    for (;;) {
      if (attempts >= MAX_BACKEND_ATTEMPTS) break
      const proc = this.pool.pick(d.mapping.key, d.hint, tried)
      if (proc === undefined) {
        // minProcs 0 (or a respawn under way): wait once for the process being started, as
        // lighttpd does, instead of a 503 the client would have to retry
        if (waitedForSpawn || tried.size > 0 || !await this.spawnUnderWay(d.mapping.key)) break
        waitedForSpawn = true
        continue
      }
      tried.add(proc)
      const host = this.hostFor(d.mapping, proc, d.role)
      if (host === undefined || (d.accept !== undefined && !d.accept(host))) {
        // a process of another role (or backend) under the same key
        this.pool.release(proc)
        continue
      }
      attempts++
      const client = this.clientFor(proc, host)
      const backendName = `${host.name === '' ? d.mapping.key : host.name} ${client.name}`
      d.measure?.attempt(d.mapping.key, backendLabel(host.name, host.address), attempts > 1)
      const stderr = new StderrLog(request.log, backendName)
      try {
        const response = await client.request({
          role: d.role === 'authorizer' ? Role.AUTHORIZER : Role.RESPONDER,
          params: d.params(host),
          body: d.body,
          cancellation,
          onStderr: (chunk) => stderr.push(chunk),
          queueWatcher: d.measure,
          // host entries that share an address share its client, but keep their own settings
          connectTimeout: host.connectTimeout,
          readTimeout: host.readTimeout,
          writeTimeout: host.writeTimeout,
          keepAlive: host.keepAlive
        })
        d.measure?.head()
        this.pool.reportConnect(proc, 'connected')
        if (response.complete !== undefined) {
          stderr.flush()
          this.pool.release(proc)
        } else {
          finished(response.body, (err) => {
            stderr.flush()
            if (err !== undefined && err !== null) d.measure?.failed(err)
            this.pool.release(proc)
          })
        }
        return { response, host }
      } catch (err) {
        stderr.flush()
        d.measure?.failed(err)
        this.pool.release(proc)
        const failure = connectFailureKind(err)
        if (failure === undefined) {
          // the backend is there but cannot take this request now: the client may come back
          if (err instanceof QueueFullError || err instanceof QueueTimeoutError || err instanceof OverloadedError) reply.header('retry-after', '1')
          throw err
        }
        this.pool.reportConnect(proc, failure)
        request.log.warn({ backend: backendName, err }, 'FastCGI backend unreachable; trying another one')
        lastError = err
      }
    }
    reply.header('retry-after', String(this.pool.retryAfterSeconds(d.mapping.key)))
    throw lastError ?? new NoBackendError(`every backend for ${d.mapping.key} is down or disabled`)
  }

  /** Resolves true once a process of the key that is starting has spawned (within SPAWN_WAIT ms). */
  private async spawnUnderWay (mappingKey: string): Promise<boolean> {
    const starting = this.pool.backends().some((b) => b.state === 'starting' && b.mappingKeys.includes(mappingKey))
    if (!starting) return false
    const spawned = await new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer)
        this.pool.off('spawned', onSpawned)
        resolve(result)
      }
      const onSpawned = (): void => done(true)
      const timer = setTimeout(() => done(false), SPAWN_WAIT)
      this.pool.on('spawned', onSpawned)
    })
    return spawned
  }

  private sendResponse (request: FastifyRequest, reply: FastifyReply, response: FastcgiResponse, host: HostConfig): FastifyReply | Promise<FastifyReply> {
    const status = response.status
    if (status > 599) {
      // Node serves 600-999, but Fastify refuses them; a backend should not depend on them.
      // The backend's headers and body must not go out with the 502: drain and answer an error.
      request.log.warn({ status }, 'FastCGI backend sent a status above 599; answering 502')
      discardBody(response)
      throw new BadResponseHeaderError(`Status ${status} is above 599`)
    }
    const headers: Record<string, string | string[]> = {}
    let transferEncoding: string | undefined
    for (const [name, value] of response.headers) {
      const lower = name.toLowerCase()
      if (DROPPED_RESPONSE_HEADERS.has(lower) || lower.startsWith('x-lighttpd-')) {
        if (lower === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`
        continue
      }
      const existing = headers[lower]
      if (existing === undefined) headers[lower] = value
      else if (Array.isArray(existing)) existing.push(value)
      else headers[lower] = [existing, value]
    }
    if (host.xSendfile && status === response.status) {
      const directive = findSendfileDirective(response.headers)
      if (directive !== undefined) {
        return replyWithSendfile(request, reply, { status, headers, body: response.body, docroots: host.xSendfileDocroot }, directive)
      }
    }
    const noBody = request.method === 'HEAD' || status === 204 || status === 304 || status < 200
    let announced: number | undefined
    let complete = response.complete
    try {
      if (transferEncoding !== undefined) {
        // the backend framed its body itself: the framing comes off, and any length with it
        checkTransferEncoding(transferEncoding)
        delete headers['content-length']
        if (complete !== undefined && !noBody) complete = decodeChunkedBody(complete)
      }
      announced = takeContentLength(headers)
    } catch (err) {
      discardBody(response)
      throw err
    }
    reply.code(status)
    reply.headers(headers)
    if (noBody) {
      // no body goes out: drain the backend so its connection is freed
      discardBody(response)
      return reply.send()
    }
    // The whole body is here: one write with a Content-Length, no stream. A Buffer without a
    // Content-Type would get Fastify's application/octet-stream, which the backend did not say.
    if (complete !== undefined && (announced === undefined || announced === complete.length) && headers['content-type'] !== undefined) {
      return reply.send(complete)
    }
    const backend = host.name === '' ? host.mappingKey : host.name
    if (transferEncoding !== undefined) return reply.send(dechunkBody(response.body, backend))
    if (announced !== undefined) return reply.send(limitToContentLength(response.body, announced, backend))
    return reply.send(response.body)
  }

  /** The mapping's host of `role` that `proc` belongs to; undefined when it is another role's. */
  private hostFor (mapping: MappingConfig, proc: Proc, role: 'responder' | 'authorizer'): HostConfig | undefined {
    let named: HostConfig | undefined
    for (const host of mapping.hosts) {
      if (host.name !== proc.name) continue
      // unlabelled hosts share the name '': the address tells them apart
      if (procOfHost(host, proc)) return host.mode === role ? host : undefined
      if (host.mode === role) named ??= host
    }
    if (named !== undefined) return named
    return mapping.hosts.every((h) => h.mode === role) ? mapping.hosts[0] : undefined
  }

  private clientFor (proc: Proc, host: HostConfig): BackendClient {
    // a process keeps its address for life: remember its client by the process itself
    const known = this.clientsByProc.get(proc)
    if (known !== undefined) return known
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
    this.clientsByProc.set(proc, client)
    return client
  }

  /** Stop taking requests on kept connections; requests in flight finish. */
  close (): void {
    for (const client of this.clients.values()) client.close()
  }

  destroy (): void {
    for (const client of this.clients.values()) client.destroy()
    this.clients.clear()
    this.clientsByProc = new WeakMap()
  }

  get logger (): FastifyBaseLogger {
    return this.log
  }
}

/** The authorizer's variables, then the application's extras; names the gateway sets are never overridden. */
function extraVariables (request: FastifyRequest, params: Record<string, string> | undefined): Array<[string, string]> | undefined {
  const granted = peekVariables(request)
  if (granted === undefined && params === undefined) return undefined
  const extra: Array<[string, string]> = []
  if (granted !== undefined) {
    for (const [name, value] of Object.entries(granted)) {
      if (!isGatewayVariable(name)) extra.push([name, value])
    }
  }
  if (params !== undefined) extra.push(...Object.entries(params))
  return extra
}

/** The balancing hint, computed only when a picker asks (hash and sticky do; most do not). */
export class RequestHint implements PickHint {
  constructor (private readonly request: FastifyRequest, readonly path: string) {}

  get host (): string {
    return (this.request.headers.host ?? '').toLowerCase()
  }

  get clientAddress (): string {
    return this.request.ip
  }
}

/** Spawned processes listen on `<socket>-<n>` or `port + n` (pool/host.ts procAddress). */
function procOfHost (host: HostConfig, proc: Proc): boolean {
  const a = host.address
  const b = proc.address
  if (a.kind === 'unix' && b.kind === 'unix') return b.path === a.path || (host.spawned && b.path.startsWith(`${a.path}-`))
  if (a.kind === 'tcp' && b.kind === 'tcp') {
    if (!host.spawned) return a.host === b.host && a.port === b.port
    return b.port >= a.port && b.port < a.port + host.maxProcs
  }
  return false
}

export function parseTarget (method: string, rawTarget: string): TargetOverride {
  const { path: urlPath, query } = normalizeRequestTarget(rawTarget)
  return { method, rawTarget, path: urlPath, query }
}

/** Lets the rest of a body go: a streamed one is drained, so its backend connection is freed. */
function discardBody (response: FastcgiResponse): void {
  if (response.complete === undefined) response.body.resume()
}

/** RFC 3875 6.2.2: a Location holding a local path, without Status, is served internally. */
function localRedirectTarget (response: FastcgiResponse): string | undefined {
  const location = response.location
  if (location === undefined || !response.localRedirect) return undefined
  return location
}
