// The plugin registered twice in encapsulated contexts, each with a host constraint and its own
// backend (one per virtual host), beside the application's own routes.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('two registrations, each host reaches its own backend', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const [a, b] = await Promise.all([startPhpCgi(t, { env: { BACKEND: 'a' } }), startPhpCgi(t, { env: { BACKEND: 'b' } })])
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/health', async () => ({ ok: true }))
  await app.register(async (scope) => {
    await scope.register(fastcgi, { documentRoot: PHP_FIXTURES, constraints: { host: 'a.example' }, server: { '.php': [a.options] } })
  })
  await app.register(async (scope) => {
    await scope.register(fastcgi, { documentRoot: PHP_FIXTURES, constraints: { host: 'b.example' }, server: { '.php': [b.options] } })
  })

  for (const host of ['a.example', 'b.example']) {
    const res = await app.inject({ url: '/env.php?x=1', headers: { host } })
    t.equal(res.statusCode, 200, host)
    const server = (JSON.parse(res.body) as { server: Record<string, string> }).server
    t.equal(server.BACKEND, host[0], `${host} reached its own backend`)
    t.equal(server.SERVER_NAME, host)
  }
  t.equal((await app.inject({ url: '/env.php', headers: { host: 'c.example' } })).statusCode, 404, 'no registration for another host')
  const health = await app.inject({ url: '/health', headers: { host: 'a.example' } })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { ok: true }, "the application's own route still answers")
})
