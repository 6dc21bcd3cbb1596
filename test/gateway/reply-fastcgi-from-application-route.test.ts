// reply.fastcgi({ mapping, scriptFilename, params }) sends the current request to a
// mapping's backends from the application's own route, with SCRIPT_FILENAME and extra
// variables overridden, and the request body passed on.
import t from 'tap'
import Fastify from 'fastify'
import { join } from 'node:path'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('reply.fastcgi from an application route', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  app.get('/api/env', async (_request, reply) => {
    return await reply.fastcgi({ mapping: '.php', scriptFilename: join(PHP_FIXTURES, 'env.php'), params: { APP_TENANT: 'acme', APP_ROLE: 'admin' } })
  })
  app.post('/api/echo', async (_request, reply) => {
    return await reply.fastcgi({ mapping: '.php', scriptFilename: join(PHP_FIXTURES, 'echo.php') })
  })

  const res = await app.inject({ url: '/api/env?x=1' })
  t.equal(res.statusCode, 200)
  const server = (res.json() as { server: Record<string, string> }).server
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'), 'SCRIPT_FILENAME overridden')
  t.equal(server.APP_TENANT, 'acme', 'extra params reach PHP')
  t.equal(server.APP_ROLE, 'admin')
  t.equal(server.QUERY_STRING, 'x=1')
  t.equal(server.REQUEST_URI, '/api/env?x=1')
  t.equal(server.REQUEST_METHOD, 'GET')

  const body = Buffer.from(JSON.stringify({ hello: 'world' }))
  const echo = await app.inject({ method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/json' }, payload: body })
  t.equal(echo.statusCode, 200)
  t.equal(echo.headers['x-content-length'], String(body.length), 'the (parsed, re-serialized) JSON body reaches PHP')
  t.same(JSON.parse(echo.body), { hello: 'world' })

  const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13])
  const echoBin = await app.inject({ method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/octet-stream' }, payload: bin })
  t.equal(echoBin.statusCode, 415, 'the application route has no octet-stream parser: its own rules apply')

  const bad = await app.inject({ url: '/api/env-missing' })
  t.equal(bad.statusCode, 404, 'other application paths are untouched')
})

t.test('reply.fastcgi with an unknown mapping is an error, not a hang', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  app.get('/api/x', async (_request, reply) => await reply.fastcgi({ mapping: '.nope' }))
  const res = await app.inject({ url: '/api/x' })
  t.equal(res.statusCode, 503)
})
