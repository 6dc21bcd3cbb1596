// fastify-fastcgi: lighttpd's mod_fastcgi as a Fastify plugin. This file only wires the
// layers together: options -> config, the pool, the gateway, routes, decorators, onClose.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { normalizeOptions } from './fastify/options'
import type { FastcgiPluginOptions } from './fastify/options'
import { Responder } from './fastify/responder'
import type { ReplyFastcgiOptions } from './fastify/responder'
import { Dispatcher, responseSpillFor } from './fastify/dispatcher'
import { ScriptResolver } from './fastify/script-resolver'
import { registerRoutes } from './fastify/routes'
import { LocalRedirects } from './fastify/local-redirect'
import { Authorizers } from './fastify/authorizer'
import type { AuthorizerHook } from './fastify/authorizer'
import { setVariables, variablesOf } from './fastify/authorizer-approval'
import { createBackends } from './fastify/backends'
import type { Backends } from './fastify/backends'
import type { BackendInfo } from './pool'
import { addMethods, mountOf } from './fastify/mount'
import { FastcgiRegistry } from './fastify/registry'
import { DecoratorTakenError } from './errors'
import { RequestMetrics } from './pool/metrics'
import { StatusPage, registerStatusRoute } from './fastify/status-page'
import type { StatusReport } from './pool/status-report'
import { runStartupCheck } from './fastify/startup-check'

interface FastcgiDecorator {
  /** the backend pool (of the first registration, when there are several): processes, balancing, counters */
  readonly pool: Backends
  backends (): BackendInfo[]
  stats (): Record<string, number>
  /** the pool's and the request metrics' figures as Prometheus text (what the status route serves) */
  prometheus (): string
  /** the status route's JSON: uptime, and per mapping and backend the request figures and processes */
  status (): StatusReport
  /**
   * The authorizer of a mapping (its key) or of one backend (its label), as a hook for routes
   * of the application's choice: `preHandler: app.fastcgi.authorizer('auth')`.
   */
  authorizer (name: string): AuthorizerHook
}

declare module 'fastify' {
  interface FastifyInstance {
    fastcgi: FastcgiDecorator
  }
  interface FastifyReply {
    fastcgi (options?: ReplyFastcgiOptions): Promise<FastifyReply | undefined>
  }
  interface FastifyRequest {
    /** Variables an approving FastCGI authorizer granted (its Variable-NAME headers, NAME encoded as lighttpd does). */
    fastcgiVariables: Record<string, string>
  }
}

const plugin: FastifyPluginAsync<FastcgiPluginOptions> = async (fastify, options) => {
  const config = normalizeOptions(options)
  const { mount, own } = mountOf(fastify.prefix, 'prefix' in options ? options.prefix : undefined)
  // a later registration joins the first one's decorator (several prefixes or virtual hosts)
  const existing: unknown = fastify.hasDecorator('fastcgi') ? fastify.fastcgi : undefined
  if (existing !== undefined && !(existing instanceof FastcgiRegistry)) throw new DecoratorTakenError()
  const registry = existing ?? new FastcgiRegistry()
  for (const warning of config.warnings) fastify.log.warn(warning)
  addMethods(fastify, config.methods)
  const pool = createBackends(config, fastify.log)
  // observability: listening before start() so that the first spawns are not counted as respawns
  const metrics = new RequestMetrics()
  pool.on('spawned', (event) => metrics.spawned(event.address))
  const statusPage = new StatusPage(pool, metrics)
  try {
    await pool.start()
  } catch (err) {
    await pool.close()
    throw err
  }
  const dispatcher = new Dispatcher(pool, responseSpillFor(config, fastify.log))
  // before anything else can fail the registration: its processes must stop with the app
  let grace: NodeJS.Timeout | undefined
  fastify.addHook('preClose', async () => {
    pool.disconnect(false)
    // the HTTP server waits for every request in flight before any onClose hook runs: a stalled
    // backend, or a client that stops reading a response (also one spooled to a temp file, no
    // longer tied to a backend), would hold close() without this
    grace = setTimeout(() => {
      pool.disconnect(true)
      dispatcher.cutResponses()
    }, config.closeGrace)
    grace.unref()
  })
  fastify.addHook('onClose', async () => {
    clearTimeout(grace)
    await pool.close()
    pool.disconnect(true)
  })
  const parts = { resolver: new ScriptResolver(config, mount), dispatcher, redirects: new LocalRedirects(fastify), metrics }
  const responder = new Responder(config, parts.resolver, parts.dispatcher, parts.redirects, metrics)
  // the keys must cover every target the application's router would take for a guarded one
  type RouterFlags = { caseSensitive?: boolean, ignoreTrailingSlash?: boolean }
  const router = fastify.initialConfig as RouterFlags & { routerOptions?: RouterFlags }
  const authorizers = new Authorizers(config, parts, {
    caseInsensitive: router.caseSensitive === false || router.routerOptions?.caseSensitive === false,
    ignoreTrailingSlash: router.ignoreTrailingSlash === true || router.routerOptions?.ignoreTrailingSlash === true
  })

  registry.add({ pool, resolver: parts.resolver, responder, authorizers, statusPage, constraints: config.constraints })
  const decorator: FastcgiDecorator = registry
  if (existing === undefined) fastify.decorate('fastcgi', decorator)
  if (!fastify.hasRequestDecorator('fastcgiVariables')) {
    fastify.decorateRequest('fastcgiVariables', {
      getter (this: FastifyRequest) { return variablesOf(this) },
      setter (this: FastifyRequest, value: Record<string, string>) { setVariables(this, value) }
    })
  }
  if (authorizers.active) fastify.addHook('onRequest', authorizers.onRequest)
  if (!fastify.hasReplyDecorator('fastcgi')) {
    fastify.decorateReply('fastcgi', function (this: FastifyReply, replyOptions?: ReplyFastcgiOptions) {
      return registry.responderFor(this.request, replyOptions?.mapping).handleReply(this.request, this, replyOptions ?? {})
    })
  }

  await registerRoutes(fastify, config, (request, reply) => responder.handleRoute(request, reply), { own, full: mount.prefix })
  if (config.statusRoute !== undefined) registerStatusRoute(fastify, { ...config.statusRoute, url: own + config.statusRoute.url }, registry.statusView())
  if (config.startupCheck !== 'off') fastify.addHook('onReady', async () => await runStartupCheck(config, fastify.log))
}

// The package's shape is the one the Fastify plugins ship: a CommonJS module whose export is the
// plugin function, merged with a namespace that holds the public types, `default` and the named
// export. `import fastcgi from 'fastify-fastcgi'` then types under module nodenext, node16 and
// bundler alike, and `require('fastify-fastcgi')` is the plugin itself.
import type * as OptionTypes from './fastify/options'
import type * as GatewayTypes from './fastify/responder'
import type * as PoolTypes from './pool'
import type * as AuthorizerTypes from './fastify/authorizer'
import type * as StatusPageTypes from './fastify/status-page'
import type * as StatusReportTypes from './pool/status-report'
import type * as HookTypes from './fastify/hooks'

type FastcgiPlugin = FastifyPluginAsync<FastcgiPluginOptions>
// the decorator's interface under a second name, so the namespace can export it as FastcgiDecorator
type FastcgiDecoratorShape = FastcgiDecorator

function fastifyFastcgi (...params: Parameters<FastcgiPlugin>): ReturnType<FastcgiPlugin> {
  return plugin(...params)
}
fp(fastifyFastcgi, { fastify: '5.x', name: 'fastify-fastcgi' })

declare namespace fastifyFastcgi {
  export type FastcgiPluginOptions = OptionTypes.FastcgiPluginOptions
  export type FastcgiHostOptions = OptionTypes.FastcgiHostOptions
  export type FastcgiMapping = OptionTypes.FastcgiMapping
  export type StartupCheck = OptionTypes.StartupCheck
  export type ReplyFastcgiOptions = GatewayTypes.ReplyFastcgiOptions
  export type AuthorizerHook = AuthorizerTypes.AuthorizerHook
  export type RewriteHeaders = HookTypes.RewriteHeaders
  export type ResponseHeaders = HookTypes.ResponseHeaders
  export type OnBackendResponse = HookTypes.OnBackendResponse
  export type BackendResponseInfo = HookTypes.BackendResponseInfo
  export type RemoteUser = HookTypes.RemoteUser
  export type RemoteUserResolver = HookTypes.RemoteUserResolver
  export type ParamsFunction = HookTypes.ParamsFunction
  export type BackendInfo = PoolTypes.BackendInfo
  export type BalanceAlgorithm = PoolTypes.BalanceAlgorithm
  export type DisabledEvent = PoolTypes.DisabledEvent
  export type EnabledEvent = PoolTypes.EnabledEvent
  export type ExitedEvent = PoolTypes.ExitedEvent
  export type PoolEventMap = PoolTypes.PoolEventMap
  export type ProcCounters = PoolTypes.ProcCounters
  export type ProcState = PoolTypes.ProcState
  export type SpawnedEvent = PoolTypes.SpawnedEvent
  export type FastcgiDecorator = FastcgiDecoratorShape
  export type StatusRouteOptions = StatusPageTypes.StatusRouteOptions
  export type StatusReport = StatusReportTypes.StatusReport
  export type BackendReport = StatusReportTypes.BackendReport
  export type HistogramReport = StatusReportTypes.HistogramReport
  export type ProcessReport = StatusReportTypes.ProcessReport
  export const fastifyFastcgi: FastcgiPlugin
  export { fastifyFastcgi as default }
}

export = fastifyFastcgi
// after the export, on the exported function, in the form Node's CommonJS export detection reads,
// so that ESM `import { fastifyFastcgi } from 'fastify-fastcgi'` finds the named export
module.exports.default = fastifyFastcgi
module.exports.fastifyFastcgi = fastifyFastcgi
