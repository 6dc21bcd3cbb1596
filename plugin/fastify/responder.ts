// The responder path (the plugin's routes and reply.fastcgi()): resolve the script, prepare
// the body, dispatch to a backend, and translate its answer into the reply. A local redirect
// leaves through LocalRedirects, back to Fastify's router.
import { Http2ServerRequest, constants as http2Constants } from 'node:http2'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Cancellation } from '../client/cancellation'
import type { FastcgiResponse } from '../client/exchange'
import { buildCgiParams, isGatewayVariable, resolveScriptLocation } from '../cgi/params'
import { encodePath } from '../cgi/url-path'
import { BadRequestPathError, BodyTooLargeError, ClientAbortedError, ClientBodyTimeoutError, NoBackendError, TooManyRedirectsError } from '../errors'
import { peekVariables, authorizedDocroot } from './authorizer-approval'
import { Dispatcher, RequestHint } from './dispatcher'
import { LocalRedirects, MAX_LOCAL_REDIRECTS } from './local-redirect'
import { BodyMemory, drainUnread, prepareBody } from './request-body'
import type { PreparedBody } from './request-body'
import type { TargetOverride } from './request-info'
import { discardBody, sendResponse } from './response-translator'
import { ScriptResolver, parseTarget, routeByKey } from './script-resolver'
import type { Route } from './script-resolver'
import { serveFromDocroot } from './static-docroot'
import type { RequestMetrics } from '../pool/metrics'
import { beginMeasure, carriedMeasure, carryMeasure } from './request-metrics'
import type { FastcgiConfig, HostConfig } from './options'
import { ResponseTimer, checkExtraParams, hostParams } from './hooks'

/** Options of `reply.fastcgi()`. */
export interface ReplyFastcgiOptions {
  /** the mapping key whose backends get the request (default: matched from the URL like the plugin's routes) */
  mapping?: string
  /** SCRIPT_FILENAME to send instead of the computed one */
  scriptFilename?: string
  /**
   * extra CGI variables, appended after the computed ones (and after the mapping's params):
   * CGI names ([A-Z0-9_]) that the gateway does not set itself; others throw FST_FASTCGI_INVALID_PARAMS
   */
  params?: Record<string, string>
}

export class Responder {
  /** the buffered request bodies of this registration held in memory (spoolMemoryTotal) */
  private readonly bodyMemory: BodyMemory

  constructor (
    private readonly config: FastcgiConfig,
    private readonly resolver: ScriptResolver,
    private readonly dispatcher: Dispatcher,
    private readonly redirects: LocalRedirects,
    private readonly metrics: RequestMetrics
  ) {
    this.bodyMemory = new BodyMemory(config.spoolMemoryTotal)
  }

  /** The handler of the plugin's routes. */
  async handleRoute (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    // the prefix alone is the mount's directory: addressed with its slash, as lighttpd's alias
    if (this.resolver.mount.local(target.path) === '') return reply.redirect(`${encodePath(target.path)}/${target.query === '' ? '' : `?${target.query}`}`, 301)
    // an approving authorizer with a docroot moved the request there (lighttpd's restart)
    const docroot = authorizedDocroot(request)
    let pending = this.resolver.resolve(target.path, docroot)
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
        return reply.redirect(encodePath(resolution.location) + query, 301)
      }
      case 'route':
        return this.serve(request, reply, docroot === undefined ? resolution.route : { ...resolution.route, documentRoot: docroot }, target, {})
    }
  }

  /** `reply.fastcgi(options)` from any route of the application. */
  async handleReply (request: FastifyRequest, reply: FastifyReply, options: ReplyFastcgiOptions): Promise<FastifyReply | undefined> {
    const target = parseTarget(request.method, request.raw.url ?? '/')
    const docroot = authorizedDocroot(request)
    let route: Route | undefined
    if (options.mapping !== undefined) {
      const mapping = this.resolver.mapping(options.mapping)
      if (mapping === undefined) throw new NoBackendError(`no mapping ${JSON.stringify(options.mapping)}`)
      route = { ...routeByKey(mapping, this.resolver.localPath(target.path)), ...this.urlPrefixOf(target.path) }
    } else {
      const resolution = await this.resolver.resolve(target.path, docroot)
      if (resolution.kind === 'route') route = resolution.route
      else {
        const first = this.resolver.responderKeys[0]
        if (first === undefined) throw new NoBackendError('no responder mapping is configured')
        route = { mapping: first, scriptName: this.resolver.localPath(target.path), pathInfo: '', ...this.urlPrefixOf(target.path) }
      }
    }
    return this.serve(request, reply, docroot === undefined ? route : { ...route, documentRoot: docroot }, target, options)
  }

  /** A path under the registration's prefix keeps the prefix in SCRIPT_NAME. */
  private urlPrefixOf (urlPath: string): { urlPrefix?: string } {
    const { mount } = this.resolver
    return mount.prefix !== '' && mount.local(urlPath) !== undefined ? { urlPrefix: mount.prefix } : {}
  }

  private async serve (request: FastifyRequest, reply: FastifyReply, route: Route, target: TargetOverride, overrides: ReplyFastcgiOptions): Promise<FastifyReply | undefined> {
    const { config } = this
    // a hop of a local redirect goes on with its client request's measure: counted once
    const origin = this.redirects.originOf(request)
    const measure = (origin === undefined ? undefined : carriedMeasure(origin)) ?? beginMeasure(this.metrics, request, reply, route.mapping.key)
    // the application's mistakes are found before the body is read
    const extra = extraVariables(request, checkExtraParams('reply.fastcgi() params', overrides.params))
    const cancellation = new Cancellation()
    // one listener for both, added before the body is read: the client going away cancels the
    // backend request, and a spooled body's temp file goes with the reply. A client can leave
    // just after its last byte, while the temp file is being closed: its 'close' then comes
    // before the body is ready, and a listener added only then never ran (the file stayed on
    // disk for good, and the backend ran the request for nobody).
    let body: PreparedBody | undefined
    let gone = false
    const onClose = (): void => {
      gone = true
      body?.dispose()
      if (!reply.raw.writableFinished) cancellation.cancel()
      else drainUnread({ parsed: request.body, raw: request.raw })
    }
    reply.raw.once('close', onClose)
    try {
      const prepared = prepareBody({
        parsed: request.body,
        raw: request.raw,
        contentLength: request.headers['content-length'],
        transferEncoding: request.headers['transfer-encoding'],
        method: request.method
      }, { bodyLimit: request.routeOptions.bodyLimit ?? 1048576, spoolMemoryLimit: config.spoolMemoryLimit, spoolDirectory: config.spoolDirectory, requestBuffering: route.mapping.hosts.every((host) => host.requestBuffering), memory: this.bodyMemory, idleTimeout: config.clientBodyTimeout })
      body = prepared instanceof Promise ? await prepared : prepared
    } catch (err) {
      reply.raw.removeListener('close', onClose)
      closeAfterUnreadBody(request, reply, err)
      throw err
    }
    if (gone) {
      body.dispose()
      throw new ClientAbortedError()
    }
    const info = this.redirects.requestInfo(request, target, body.length, config.serverSoftware, config.serverName)
    const remoteUser = config.hooks.remoteUser(request)
    const documentRoot = route.documentRoot ?? config.documentRoot
    const timer = new ResponseTimer(config.hooks.onBackendResponse)
    const params = (host: HostConfig): Array<[string, string]> => {
      const location = resolveScriptLocation({
        scriptName: route.scriptName,
        pathInfo: route.pathInfo,
        documentRoot,
        docroot: host.docroot,
        brokenScriptfilename: host.brokenScriptfilename
      })
      const client = route.urlPrefix === undefined ? location : { ...location, scriptName: route.urlPrefix + location.scriptName }
      return buildCgiParams(info, overrides.scriptFilename === undefined ? client : { ...client, scriptFilename: overrides.scriptFilename }, {
        role: 'responder',
        stripRequestUri: host.stripRequestUri,
        remoteUser,
        extraVariables: [...extra.granted, ...hostParams(host, request), ...extra.application]
      })
    }
    let dispatched
    try {
      dispatched = await this.dispatcher.dispatch(request, reply, {
        mapping: route.mapping,
        role: 'responder',
        body: body.body,
        bodyTimeout: config.clientBodyTimeout,
        cancellation,
        measure,
        hint: new RequestHint(request, target.path),
        params
      })
    } catch (err) {
      closeAfterUnreadBody(request, reply, err)
      throw err
    }
    const { response, host } = dispatched
    timer.observe(request, reply, 'responder', host, response)

    const local = localRedirectTarget(response)
    if (local !== undefined) {
      const localPath = decodableLocation(local)
      const resolution = localPath === undefined ? undefined : await this.resolver.resolve(localPath, documentRoot)
      // not one of ours (nor a path the gateway could route at all): the client follows it,
      // with the redirect's own body (as lighttpd)
      if (resolution?.kind !== 'route') return sendResponse(request, reply, response, host, config.hooks.rewriteHeaders)
      discardBody(response)
      // this hop is over: its listener must not pile up on the reply
      reply.raw.removeListener('close', onClose)
      body.dispose()
      if (this.redirects.hopsOf(request) >= MAX_LOCAL_REDIRECTS) throw new TooManyRedirectsError(MAX_LOCAL_REDIRECTS)
      carryMeasure(origin ?? request, measure)
      return this.redirects.follow(request, reply, local)
    }
    return sendResponse(request, reply, response, host, config.hooks.rewriteHeaders)
  }
}

/**
 * A body left unread (past bodyLimit, or its client stopped sending) is not read to its end
 * for the sake of a kept connection: the connection closes after the answer (RFC 9110 15.5.9),
 * so a client cannot make the gateway read and drop bytes for as long as it likes. HTTP/2 has
 * no Connection header, and node:http2 leaves a stream whose body was read from open until its
 * client ends it (its request, its reply, Fastify's onResponse all waiting on a client that
 * stopped): once the answer is out, the stream is closed with RST_STREAM NO_ERROR, the way
 * RFC 9113 8.1 lets a server stop a request body it no longer needs.
 */
function closeAfterUnreadBody (request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  if (!(err instanceof BodyTooLargeError || err instanceof ClientBodyTimeoutError)) return
  const raw = request.raw
  if (raw instanceof Http2ServerRequest) {
    const stream = raw.stream
    // 'finish': the answer's last frame is handed to nghttp2, which sends it before the reset
    stream.once('finish', () => { if (!stream.closed) stream.close(http2Constants.NGHTTP2_NO_ERROR) })
    return
  }
  if (raw.httpVersionMajor === 1 && !reply.sent) reply.header('connection', 'close')
}

/** The authorizer's variables (names the gateway sets are never taken), and the application's checked extras. */
function extraVariables (request: FastifyRequest, application: Array<[string, string]>): { granted: Array<[string, string]>, application: Array<[string, string]> } {
  const granted: Array<[string, string]> = []
  for (const [name, value] of Object.entries(peekVariables(request) ?? {})) {
    if (!isGatewayVariable(name)) granted.push([name, value])
  }
  return { granted, application }
}

/** The path of a local Location, or undefined when it cannot be decoded (`/%zz`, a control byte). */
function decodableLocation (location: string): string | undefined {
  try {
    return parseTarget('GET', location).path
  } catch (err) {
    if (err instanceof BadRequestPathError) return undefined
    throw err
  }
}

/** RFC 3875 6.2.2: a Location holding a local path, without Status, is served internally. */
function localRedirectTarget (response: FastcgiResponse): string | undefined {
  const location = response.location
  if (location === undefined || !response.localRedirect) return undefined
  return location
}
