// fastify.fastcgi.authorizer(name) as a preHandler of routes the application chooses, by the
// backend's label or by the mapping key. An unknown name fails when the route is declared.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('preHandler: app.fastcgi.authorizer(name) guards only the routes that use it', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  // the key matches no URL: the authorizer runs only where the application asks for it
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/__auth/': { token: { ...gate.options, mode: 'authorizer', checkLocal: false, docroot: join(PHP_FIXTURES, 'auth', 'by-token.php') } } }
  })
  let reports = 0
  app.get('/reports', { preHandler: app.fastcgi.authorizer('token') }, async (request) => {
    reports++
    return { user: request.fastcgiVariables.REMOTE_USER }
  })
  app.post('/reports', { onRequest: app.fastcgi.authorizer('/__auth/') }, async (request) => ({ user: request.fastcgiVariables.REMOTE_USER, body: request.body }))
  app.get('/open', async () => 'open')
  t.throws(() => app.fastcgi.authorizer('nobody'), { code: 'FST_FASTCGI_INVALID_OPTION' }, 'unknown names fail at once')

  const ok = await app.inject({ url: '/reports?token=open' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { user: 'token-user' })
  t.equal(reports, 1)

  const bad = await app.inject({ url: '/reports?token=wrong' })
  t.equal(bad.statusCode, 403)
  t.equal(bad.body, 'bad token\n')
  t.equal(reports, 1, 'the handler did not run')

  const post = await app.inject({ url: '/reports?token=open', method: 'POST', payload: { a: 1 } })
  t.equal(post.statusCode, 200)
  t.same(post.json(), { user: 'token-user', body: { a: 1 } }, 'by mapping key, as onRequest; the body is parsed afterwards')

  const open = await app.inject({ url: '/open?token=wrong' })
  t.equal(open.statusCode, 200, 'routes without the hook are not guarded')
  t.equal(open.body, 'open')
})
