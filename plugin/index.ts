// fastify-fastcgi: lighttpd's mod_fastcgi as a Fastify plugin. This file only wires the
// layers together: options -> config, the pool, the gateway, routes, decorators, onClose.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { normalizeOptions } from './fastify/options'
import type { FastcgiPluginOptions } from './fastify/options'
import { Gateway } from './fastify/gateway'
import type { ReplyFastcgiOptions } from './fastify/gateway'
import { registerRoutes } from './fastify/routes'
import { Authorizers } from './fastify/authorizer'
import type { AuthorizerHook } from './fastify/authorizer'
import { setVariables, variablesOf } from './fastify/request-state'
import { BackendPool } from './pool'
import type { BackendInfo } from './pool'
import { RequestMetrics } from './pool/metrics'
import { StatusPage, registerStatusRoute } from './fastify/status-page'
import type { StatusReport } from './pool/status-report'

export interface FastcgiDecorator {
  /** the backend pool: processes, balancing, counters */
  readonly pool: BackendPool
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
  for (const warning of config.warnings) fastify.log.warn(warning)
  const pool = new BackendPool({ balance: config.balance, debug: config.debug, logger: fastify.log, closeGrace: config.closeGrace })
  for (const mapping of config.mappings) {
    for (const host of mapping.hosts) pool.add(host)
  }
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
  const gateway = new Gateway(config, pool, fastify.log, metrics)
  // the keys must cover every target the application's router would take for a guarded one
  type RouterFlags = { caseSensitive?: boolean, ignoreTrailingSlash?: boolean }
  const router = fastify.initialConfig as RouterFlags & { routerOptions?: RouterFlags }
  const authorizers = new Authorizers(config, gateway, {
    caseInsensitive: router.caseSensitive === false || router.routerOptions?.caseSensitive === false,
    ignoreTrailingSlash: router.ignoreTrailingSlash === true || router.routerOptions?.ignoreTrailingSlash === true
  })

  const decorator: FastcgiDecorator = {
    pool,
    backends: () => pool.backends(),
    stats: () => pool.stats(),
    prometheus: () => statusPage.prometheus(),
    status: () => statusPage.report(),
    authorizer: (name) => authorizers.hook(name)
  }
  fastify.decorate('fastcgi', decorator)
  if (!fastify.hasRequestDecorator('fastcgiVariables')) {
    fastify.decorateRequest('fastcgiVariables', {
      getter (this: FastifyRequest) { return variablesOf(this) },
      setter (this: FastifyRequest, value: Record<string, string>) { setVariables(this, value) }
    })
  }
  if (authorizers.active) fastify.addHook('onRequest', authorizers.onRequest)
  fastify.decorateReply('fastcgi', function (this: FastifyReply, replyOptions?: ReplyFastcgiOptions) {
    return gateway.handleReply(this.request, this, replyOptions ?? {})
  })

  await registerRoutes(fastify, config, (request, reply) => gateway.handleRoute(request, reply))
  if (config.statusRoute !== undefined) registerStatusRoute(fastify, config.statusRoute, statusPage)

  fastify.addHook('preClose', async () => {
    gateway.close()
  })
  fastify.addHook('onClose', async () => {
    await pool.close()
    gateway.destroy()
  })
}

export const fastifyFastcgi = fp(plugin, { fastify: '5.x', name: 'fastify-fastcgi' })
export default fastifyFastcgi
export type { FastcgiPluginOptions, FastcgiHostOptions, FastcgiMapping } from './fastify/options'
export type { ReplyFastcgiOptions } from './fastify/gateway'
export type {
  BackendInfo, BalanceAlgorithm, DisabledEvent, EnabledEvent, ExitedEvent, PoolEventMap, ProcCounters, ProcState, SpawnedEvent
} from './pool'
export type { AuthorizerHook } from './fastify/authorizer'
export type { StatusRouteOptions } from './fastify/status-page'
export type { StatusReport, BackendReport, HistogramReport, ProcessReport } from './pool/status-report'

// CommonJS: `require('fastify-fastcgi')` is the plugin itself, with `.default` and `.fastifyFastcgi`
module.exports = fastifyFastcgi
module.exports.default = fastifyFastcgi
module.exports.fastifyFastcgi = fastifyFastcgi
