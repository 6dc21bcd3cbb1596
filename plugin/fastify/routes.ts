// The routes a registration adds: `/*` when a suffix key exists, `<prefix>*` for each
// prefix key. They live in their own encapsulated context whose only content-type parser
// hands the raw stream on, so the application's own routes keep parsing their bodies.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastcgiConfig } from './options'

export function routeUrls (config: FastcgiConfig): string[] {
  const responders = config.mappings.filter((m) => m.hosts.some((h) => h.mode === 'responder'))
  // `/*` takes every path the application has no route for; a prefix route beside it would only repeat it
  if (responders.some((m) => m.kind === 'suffix' || m.key === '/')) return ['/*']
  return [...new Set(responders.map((m) => `${m.key}*`))]
}

export async function registerRoutes (
  instance: FastifyInstance,
  config: FastcgiConfig,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>,
  mount: { readonly own: string, readonly full: string } = { own: '', full: '' }
): Promise<void> {
  // the plugin's own `prefix` option: Fastify does not apply it to a fastify-plugin, so the routes' context does
  await instance.register(async (routes) => {
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    for (const url of routeUrls(config)) {
      routes.route({
        method: routes.supportedMethods,
        url,
        ...(config.constraints === undefined ? {} : { constraints: config.constraints }),
        // the application's onRequest / preValidation / preHandler / config (docs/hooks.md)
        ...config.hooks.routeOptions,
        handler
      })
    }
    // `/php` itself, which `/php/*` does not take: the responder redirects it to `/php/`. With
    // ignoreTrailingSlash the router gives this route `/php/` too, which the responder serves
    // (the mount's index script): the application's route hooks guard it like the others
    if (mount.full !== '' && routeUrls(config).includes('/*')) {
      routes.route({
        method: 'GET',
        url: '/',
        prefixTrailingSlash: 'no-slash',
        ...(config.constraints === undefined ? {} : { constraints: config.constraints }),
        ...config.hooks.routeOptions,
        handler
      })
    }
  }, mount.own === '' ? {} : { prefix: mount.own })
}
