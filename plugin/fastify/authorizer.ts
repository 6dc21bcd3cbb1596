// FastCGI authorizers (lighttpd reference 6) as Fastify hooks. A mapping whose hosts have
// `mode: 'authorizer'` guards the requests it matches (suffix or prefix, check-local as for
// responders) from an onRequest hook; `fastify.fastcgi.authorizer(name)` gives the same check
// as a hook for routes of the application's choice.
//
// The authorizer gets FCGI_AUTHORIZER, the request's CGI variables, no CONTENT_LENGTH and an
// empty STDIN. Its whole (bounded) response is read before anything is decided. 200 (or no
// Status) approves: Variable-NAME headers become request.fastcgiVariables and extra params
// of a later responder request, and the request goes on to whatever serves it. Any other
// status is the answer: the authorizer's status, headers and body go to the client (all its
// headers, unlike 1.4.69 which drops those before Status; never Variable-*). Every failure
// denies: down 503, timeout 504, garbage 502.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { buildCgiParams, cgiVariableName, isGatewayVariable, resolveScriptLocation } from '../cgi/params'
import { originForm } from '../cgi/url-path'
import { textFromBytes } from '../cgi/byte-string'
import { AuthorizerBodyTooLargeError, AuthorizerStatusError, InvalidOptionError } from '../errors'
import type { FastcgiResponse } from '../client/exchange'
import { RequestHint } from './dispatcher'
import type { Dispatcher } from './dispatcher'
import type { LocalRedirects } from './local-redirect'
import { isVariableHeader, sendDenial } from './response-translator'
import { parseTarget } from './script-resolver'
import type { ScriptResolver } from './script-resolver'
import type { TargetOverride } from './request-info'
import { authorizedDocroot, isApprovedBy, markApproved, setAuthorizedDocroot, variablesOf } from './authorizer-approval'
import { serveFromDocroot } from './static-docroot'
import type { RequestMetrics } from '../pool/metrics'
import type { FastcgiConfig, HostConfig, MappingConfig } from './options'
import { meetsHostConstraint } from './mount'
import { ResponseTimer, hostParams } from './hooks'

/** What `fastify.fastcgi.authorizer(name)` returns: usable as onRequest or preHandler. */
export type AuthorizerHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

/** An authorizer's answer is a decision, not a document: its body is kept in memory up to this. */
export const AUTHORIZER_BODY_LIMIT = 1024 * 1024

/** What the authorizer path shares with the responder path. */
export interface AuthorizerParts {
  readonly resolver: ScriptResolver
  readonly dispatcher: Dispatcher
  readonly redirects: LocalRedirects
  /** authorizer requests are counted beside the responders' (their own backend series) */
  readonly metrics: RequestMetrics
}

export interface AuthorizersOptions {
  /** the application's router ignores case (Fastify caseSensitive: false): keys are matched that way too */
  readonly caseInsensitive?: boolean
  /** the router takes `/x` for `/x/` (Fastify ignoreTrailingSlash): so do the keys */
  readonly ignoreTrailingSlash?: boolean
}

interface Guard {
  /** the configured mapping, all its hosts (the pool picks among them) */
  readonly mapping: MappingConfig
  /** a backend label: only that host of the mapping */
  readonly label?: string
}

export class Authorizers {
  /** authorizer mappings with only their authorizer hosts, for matching */
  private readonly keys: readonly MappingConfig[]
  private readonly originals: ReadonlyMap<string, MappingConfig>
  private readonly prefixOnly: boolean
  private readonly caseInsensitive: boolean
  private readonly ignoreTrailingSlash: boolean

  constructor (private readonly config: FastcgiConfig, private readonly parts: AuthorizerParts, options: AuthorizersOptions = {}) {
    this.caseInsensitive = options.caseInsensitive === true
    this.ignoreTrailingSlash = options.ignoreTrailingSlash === true
    const keys: MappingConfig[] = []
    for (const mapping of config.mappings) {
      const hosts = mapping.hosts.filter((h) => h.mode === 'authorizer')
      if (hosts.length > 0) keys.push({ ...mapping, hosts })
    }
    this.keys = keys
    this.originals = new Map(config.mappings.map((m) => [m.key, m]))
    this.prefixOnly = keys.every((k) => k.kind === 'prefix')
  }

  /** Is any mapping an authorizer (then index.ts installs onRequest)? */
  get active (): boolean {
    return this.keys.length > 0
  }

  /** The onRequest hook for authorizer mappings. */
  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // another registration serves the other hosts (virtual hosts by `constraints`)
    if (!meetsHostConstraint(this.config.constraints, request)) return undefined
    const rawTarget = request.raw.url ?? '/'
    const target = parseTarget(request.method, rawTarget)
    const local = this.parts.resolver.localPath(target.path)
    // cheap exit for the common case: prefix keys only, none of them matches
    if (this.prefixOnly && !this.keys.some((k) => local.startsWith(k.key)) && this.rawMatch(rawTarget) === undefined) return undefined
    const resolution = await this.parts.resolver.resolve(target.path, this.config.documentRoot, this.keys)
    switch (resolution.kind) {
      case 'not-ours': {
        // The router matched the request-target as sent (`/members/../x`, `/MEMBERS/x` when it
        // ignores case), not the normalized path: if that form falls under a key, authorize too,
        // so that an application route can never be reached around its authorizer.
        const raw = this.rawMatch(rawTarget)
        if (raw === undefined) return undefined
        return await this.guardRoute(request, reply, raw, target, local)
      }
      case 'not-found':
        // check-local: lighttpd's core answers 404 and nothing else serves the request
        reply.callNotFound()
        return reply
      case 'forbidden':
        return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Forbidden' })
      case 'redirect': {
        const q = rawTarget.indexOf('?')
        return reply.redirect(resolution.location + (q === -1 ? '' : rawTarget.slice(q)), 301)
      }
      case 'route':
        break
    }
    const { mapping, scriptName } = resolution.route
    const checkLocal = (mapping.hosts[0] as HostConfig).checkLocal
    return await this.guardRoute(request, reply, mapping, target, checkLocal ? scriptName : local)
  }

  private async guardRoute (request: FastifyRequest, reply: FastifyReply, mapping: MappingConfig, target: TargetOverride, scriptName: string): Promise<FastifyReply | undefined> {
    if (isApprovedBy(request, mapping.key)) return undefined
    const original = this.originals.get(mapping.key) ?? mapping
    const decision = await this.authorize(request, reply, { mapping: original }, target, scriptName)
    if (decision !== 'approved') return decision
    const docroot = authorizedDocroot(request)
    // nothing routes the request (no responder route, no application route): the docroot serves it
    if (docroot !== undefined && request.is404) return await serveFromDocroot(request, reply, docroot, target.path)
    return undefined
  }

  /** A key that the raw request-target (undecoded, decoded, before `;`, any case or trailing slash if so configured) falls under. */
  private rawMatch (rawTarget: string): MappingConfig | undefined {
    const target = originForm(rawTarget)
    let end = target.length
    for (const mark of ['?', '#']) {
      const at = target.indexOf(mark)
      if (at !== -1 && at < end) end = at
    }
    const raw = target.slice(0, end)
    const variants = [raw]
    try {
      const decoded = decodeURIComponent(raw)
      if (decoded !== raw) variants.push(decoded)
    } catch {}
    for (const v of [...variants]) {
      const semi = v.indexOf(';')
      if (semi !== -1) variants.push(v.slice(0, semi))
    }
    if (this.ignoreTrailingSlash) {
      for (const v of [...variants]) variants.push(v.endsWith('/') ? v.slice(0, -1) : `${v}/`)
    }
    const fold = (text: string): string => this.caseInsensitive ? text.toLowerCase() : text
    // the keys are below the registration's prefix, in whatever case the router lets through
    const prefix = this.parts.resolver.mount.prefix
    const below: string[] = []
    for (const variant of variants) {
      if (prefix === '') below.push(variant)
      else if (fold(variant.slice(0, prefix.length)) === fold(prefix)) {
        const rest = variant.slice(prefix.length)
        if (rest === '' || rest.startsWith('/')) below.push(rest === '' ? '/' : rest)
      }
    }
    for (const key of this.keys) {
      const k = fold(key.key)
      for (const variant of below) {
        const v = fold(variant)
        if (key.kind === 'prefix' ? v.startsWith(k) : v.endsWith(k)) return key
      }
    }
    return undefined
  }

  /** `fastify.fastcgi.authorizer(name)`: name is a mapping key or a backend label. */
  hook (name: string): AuthorizerHook {
    const guard = this.find(name)
    return async (request, reply) => {
      if (isApprovedBy(request, guard.mapping.key)) return undefined
      const target = parseTarget(request.method, request.raw.url ?? '/')
      const decision = await this.authorize(request, reply, guard, target, this.parts.resolver.localPath(target.path))
      return decision === 'approved' ? undefined : decision
    }
  }

  private find (name: string): Guard {
    const byKey = this.keys.find((k) => k.key === name)
    if (byKey !== undefined) return { mapping: this.originals.get(name) ?? byKey }
    for (const key of this.keys) {
      if (key.hosts.some((h) => h.name === name)) return { mapping: this.originals.get(key.key) ?? key, label: name }
    }
    const known = this.keys.flatMap((k) => [k.key, ...k.hosts.map((h) => h.name).filter((n) => n !== '')])
    throw new InvalidOptionError(`fastcgi.authorizer(${JSON.stringify(name)}): no authorizer mapping or backend has that name` +
      (known.length === 0 ? ' (no backend has mode: \'authorizer\')' : `; known: ${known.map((k) => JSON.stringify(k)).join(', ')}`))
  }

  /** Asks the authorizer; 'approved', or the reply that carries its denial. Throws on any failure. */
  private async authorize (request: FastifyRequest, reply: FastifyReply, guard: Guard, target: TargetOverride, scriptName: string): Promise<'approved' | FastifyReply> {
    const { config } = this
    const info = this.parts.redirects.requestInfo(request, target, undefined, config.serverSoftware, config.serverName)
    const abort = new AbortController()
    const onClientGone = (): void => {
      if (!reply.raw.writableFinished) abort.abort()
    }
    reply.raw.once('close', onClientGone)
    const label = guard.label
    const measure = this.parts.metrics.begin(guard.mapping.key)
    // lighttpd runs mod_auth before mod_fastcgi: the authorizer sees who the client is too
    const remoteUser = config.hooks.remoteUser(request)
    const timer = new ResponseTimer(config.hooks.onBackendResponse)
    const exchange = async (): Promise<{ response: FastcgiResponse, host: HostConfig, body: Buffer }> => {
      const { response, host } = await this.parts.dispatcher.dispatch(request, reply, {
        mapping: guard.mapping,
        role: 'authorizer',
        ...(label === undefined ? {} : { accept: (host: HostConfig) => host.name === label }),
        body: undefined,
        signal: abort.signal,
        measure,
        hint: new RequestHint(request, target.path),
        params: (host) => buildCgiParams(info, resolveScriptLocation({
          scriptName,
          pathInfo: '',
          documentRoot: config.documentRoot,
          docroot: host.docroot,
          brokenScriptfilename: false
        }), { role: 'authorizer', stripRequestUri: host.stripRequestUri, remoteUser, extraVariables: hostParams(host, request) })
      })
      timer.observe(request, reply, 'authorizer', host, response)
      return { response, host, body: await readBounded(response.body, AUTHORIZER_BODY_LIMIT) }
    }
    let answer
    try {
      answer = await exchange()
    } catch (err) {
      // the client gone is an abort; any other failure is the status the client gets for it
      measure.end(statusCodeOf(err), !abort.signal.aborted)
      throw err
    } finally {
      reply.raw.removeListener('close', onClientGone)
    }
    measure.end(answer.response.status, true)
    const { response, host, body } = answer
    const authorizer = host.name === '' ? guard.mapping.key : host.name
    const status = response.status
    if (status === 200) {
      const vars = variablesOf(request)
      for (const [name, value] of response.headers) {
        if (!isVariableHeader(name)) continue
        const cgiName = cgiVariableName(name.slice(9))
        if (isGatewayVariable(cgiName) || cgiName === 'HTTP_PROXY') {
          request.log.warn({ authorizer, variable: cgiName }, 'FastCGI authorizer Variable- header would override a variable the gateway sets; refused')
          continue
        }
        const before = vars[cgiName]
        vars[cgiName] = before === undefined ? textFromBytes(value) : `${before}, ${textFromBytes(value)}`
      }
      markApproved(request, guard.mapping.key)
      if (host.docroot !== undefined) setAuthorizedDocroot(request, host.docroot)
      return 'approved'
    }
    if (status < 200 || status > 599) {
      request.log.warn({ authorizer, status }, 'FastCGI authorizer answered a status that cannot be sent; denying with 502')
      throw new AuthorizerStatusError(status)
    }
    request.log.debug({ authorizer, status }, 'FastCGI authorizer denied the request')
    return sendDenial(request, reply, status, response.headers, body, config.hooks.rewriteHeaders)
  }
}

/** The whole body, or AuthorizerBodyTooLargeError (and the backend request dropped). */
async function readBounded (body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) {
      body.destroy()
      throw new AuthorizerBodyTooLargeError(limit)
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks, size)
}

function statusCodeOf (err: unknown): number {
  return err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500
}
