// fastify-fastcgi: lighttpd's mod_fastcgi as a Fastify plugin. This file only wires the
// layers together: options -> config, the pool, the gateway, routes, decorators, onClose.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { normalizeOptions } from './fastify/options'
import type { FastcgiPluginOptions } from './fastify/options'
import { Gateway } from './fastify/gateway'
import type { ReplyFastcgiOptions } from './fastify/gateway'
import { registerRoutes } from './fastify/routes'
import { BackendPool } from './pool'
import type { BackendInfo } from './pool'

export interface FastcgiDecorator {
  /** the backend pool: processes, balancing, counters */
  readonly pool: BackendPool
  backends (): BackendInfo[]
  stats (): Record<string, number>
  prometheus (): string
}

declare module 'fastify' {
  interface FastifyInstance {
    fastcgi: FastcgiDecorator
  }
  interface FastifyReply {
    fastcgi (options?: ReplyFastcgiOptions): Promise<FastifyReply | undefined>
  }
}

const plugin: FastifyPluginAsync<FastcgiPluginOptions> = async (fastify, options) => {
  const config = normalizeOptions(options)
  for (const warning of config.warnings) fastify.log.warn(warning)
  const pool = new BackendPool({ balance: config.balance, debug: config.debug, logger: fastify.log, closeGrace: config.closeGrace })
  for (const mapping of config.mappings) {
    for (const host of mapping.hosts) pool.add(host)
  }
  try {
    await pool.start()
  } catch (err) {
    await pool.close()
    throw err
  }
  const gateway = new Gateway(config, pool, fastify.log)

  const decorator: FastcgiDecorator = {
    pool,
    backends: () => pool.backends(),
    stats: () => pool.stats(),
    prometheus: () => pool.prometheus()
  }
  fastify.decorate('fastcgi', decorator)
  fastify.decorateReply('fastcgi', function (this: FastifyReply, replyOptions?: ReplyFastcgiOptions) {
    return gateway.handleReply(this.request, this, replyOptions ?? {})
  })

  await registerRoutes(fastify, config, (request, reply) => gateway.handleRoute(request, reply))
  if (config.statusUrl !== undefined) {
    fastify.get(config.statusUrl, async (request, reply) => {
      const accept = request.headers.accept ?? ''
      if (accept.includes('text/html')) return reply.type('text/html; charset=utf-8').send(pool.statusHtml())
      return reply.type('text/plain; version=0.0.4').send(pool.prometheus())
    })
  }

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

// CommonJS: `require('fastify-fastcgi')` is the plugin itself, with `.default` and `.fastifyFastcgi`
module.exports = fastifyFastcgi
module.exports.default = fastifyFastcgi
module.exports.fastifyFastcgi = fastifyFastcgi
