// The plugin's routes take @fastify/http-proxy's route options: onRequest, preValidation,
// preHandler and config. @fastify/rate-limit (global: false) limits the mapping through
// `config.rateLimit`, and a preHandler that denies keeps the request from the backend
// (php-fpm). The application's own routes get none of these.
import t from 'tap'
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fastcgi from '../../plugin'
import { InvalidOptionError } from '../../plugin/errors'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { until } from '../helpers/backend-client'

t.test('rate limit and a denying preHandler in front of php-fpm', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(rateLimit, { global: false })
  const seen: string[] = []
  let backendResponses = 0
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [fpm.options] },
    config: { rateLimit: { max: 3, timeWindow: 60_000 } },
    onRequest: async (request: FastifyRequest) => { seen.push(`onRequest ${request.url}`) },
    preValidation: [async (request: FastifyRequest) => { seen.push(`preValidation ${request.url}`) }],
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers['x-api-key'] !== 'k1') return await reply.code(403).send({ error: 'no key' })
    },
    onBackendResponse: () => { backendResponses++ }
  })
  app.get('/own', async () => ({ own: true }))

  const denied = await app.inject({ url: '/env.php' })
  t.equal(denied.statusCode, 403, 'the preHandler denies')
  t.same(denied.json(), { error: 'no key' })
  t.equal(backendResponses, 0, 'php-fpm was not asked')
  t.same(seen, ['onRequest /env.php', 'preValidation /env.php'], 'onRequest and preValidation ran in order')

  const ok = await app.inject({ url: '/env.php', headers: { 'x-api-key': 'k1' } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().sapi, 'fpm-fcgi', 'php-fpm answered')
  t.ok(await until(() => backendResponses === 1), 'one backend response reported')
  t.equal(ok.headers['x-ratelimit-limit'], '3', 'the route config reached @fastify/rate-limit')

  // two requests of the limit of 3 were spent above; the third passes, the fourth is refused
  const third = await app.inject({ url: '/env.php', headers: { 'x-api-key': 'k1' } })
  t.equal(third.statusCode, 200)
  const limited = await app.inject({ url: '/env.php', headers: { 'x-api-key': 'k1' } })
  t.equal(limited.statusCode, 429, 'over the limit: 429 from @fastify/rate-limit')
  t.ok(await until(() => backendResponses === 2), 'the third was reported')
  t.equal(backendResponses, 2, 'the limited request never reached php-fpm')

  const own = await app.inject({ url: '/own' })
  t.equal(own.statusCode, 200, 'the application route has none of the hooks')
  t.notOk(own.headers['x-ratelimit-limit'])
  t.notOk(seen.includes('onRequest /own'))
})

t.test('route options are validated at register()', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ preHandler: 'auth' }, /preHandler must be a hook function or an array of them/],
    [{ onRequest: [() => {}, 1] }, /onRequest must be a hook function or an array of them/],
    [{ preValidation: {} }, /preValidation must be/],
    [{ config: [] }, /config must be/],
    [{ rewriteHeaders: {} }, /rewriteHeaders must be a function/],
    [{ onBackendResponse: 'log' }, /onBackendResponse must be a function/],
    [{ remoteUser: 'alice' }, /remoteUser must be a function/]
  ]
  for (const [extra, message] of cases) {
    const app = Fastify()
    const err = await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ socket: '/nonexistent/php.sock' }] }, ...extra }).ready().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof InvalidOptionError, `${Object.keys(extra)[0] as string}: FST_FASTCGI_INVALID_OPTION`)
    t.match(String(err), message)
    await app.close()
  }
})
