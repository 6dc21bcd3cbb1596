// A registration under a prefix adds a second route for the bare prefix (`/php`, which `/php/*`
// does not take; it redirects to `/php/`). With Fastify's ignoreTrailingSlash the router also
// gives that route `/php/`, `/php/.` and `/php/?q`, which the responder serves as the mount's
// index script. The application's route hooks (onRequest, preValidation, preHandler, config:
// the @fastify/http-proxy options an application guards the gateway with) must run there too,
// or the index script is served around them.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyReply } from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('route hooks guard the prefix\'s index when the router ignores trailing slashes', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  for (const hook of ['onRequest', 'preValidation', 'preHandler'] as const) {
    const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } })
    t.teardown(() => app.close())
    let backendResponses = 0
    await app.register(fastcgi, {
      prefix: '/php',
      documentRoot: join(PHP_FIXTURES, 'dir'),
      indexFiles: ['index.php'],
      server: { '.php': [php.options] },
      [hook]: async (_request: unknown, reply: FastifyReply) => await reply.code(401).send({ error: 'login first' }),
      onBackendResponse: () => { backendResponses++ }
    })
    for (const url of ['/php/', '/php/.', '/php/?q=1', '/php/index.php']) {
      const res = await app.inject({ url })
      t.equal(res.statusCode, 401, `${hook}: ${url} is denied by the application's hook`)
      t.notMatch(res.body, 'dir/index.php', `${hook}: ${url} never reaches the index script`)
    }
    const bare = await app.inject({ url: '/php' })
    t.equal(bare.statusCode, 401, `${hook}: the bare prefix goes through the hook too`)
    t.equal(backendResponses, 0, `${hook}: php-cgi was never asked`)
  }
})
