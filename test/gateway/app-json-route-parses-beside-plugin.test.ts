// The plugin's routes take raw bodies, but the application's own routes beside it keep
// Fastify's body parsing: a JSON route still gets an object, and a JSON body sent to a PHP
// script arrives there raw.
import t from 'tap'
import Fastify from 'fastify'
import { createHash } from 'node:crypto'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('an application JSON route beside the plugin still parses JSON', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  app.post('/api/items', async (request) => ({ got: request.body, type: typeof request.body }))
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })

  const payload = JSON.stringify({ name: 'x', n: [1, 2, 3] })
  const own = await app.inject({ method: 'POST', url: '/api/items', headers: { 'content-type': 'application/json' }, payload })
  t.equal(own.statusCode, 200)
  t.same(own.json(), { got: { name: 'x', n: [1, 2, 3] }, type: 'object' }, 'the application route got a parsed object')

  const bad = await app.inject({ method: 'POST', url: '/api/items', headers: { 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(bad.statusCode, 400, 'invalid JSON to the application route is still a 400 from its parser')

  const php1 = await app.inject({ method: 'POST', url: '/echo.php', headers: { 'content-type': 'application/json' }, payload })
  t.equal(php1.statusCode, 200)
  t.equal(php1.headers['x-content-type'], 'application/json')
  t.equal(php1.headers['x-body-md5'], createHash('md5').update(payload).digest('hex'), 'the PHP script got the raw JSON bytes')
  t.equal(php1.body, payload)

  const php2 = await app.inject({ method: 'POST', url: '/echo.php', headers: { 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(php2.statusCode, 200, 'invalid JSON is not the plugin route\'s business')
  t.equal(php2.body, '{nope')
})
