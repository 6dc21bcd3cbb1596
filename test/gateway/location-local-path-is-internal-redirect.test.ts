// RFC 3875 6.2.2 local redirect: a Location holding a local path and no Status is served
// inside the gateway (as lighttpd does): the client gets the target's response, never a 3xx.
// The first backend (raw: PHP always adds a Status) sends only `Location: /...`; the target is
// a PHP script on php-cgi. A loop stops after 5 hops with 502.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('Location: /hello.php without Status is served internally', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const redirector = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const target = req.param('QUERY_STRING') === 'env' ? '/env.php/pi?from=redirect' : '/hello.php'
      await conn.respond(`Location: ${target}\r\n\r\n`, req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/go': [{ ...redirector.options, checkLocal: false }], '.php': [php.options] }
  })
  await app.ready()

  const res = await app.inject({ url: '/go' })
  t.equal(res.statusCode, 200, 'no 3xx reaches the client')
  t.equal(res.headers.location, undefined)
  t.equal(res.body, 'hello from php\n', 'the target script answered')
  t.equal(redirector.requests.length, 1)

  const env = await app.inject({ url: '/go?env' })
  t.equal(env.statusCode, 200)
  const server = (env.json() as { server: Record<string, string> }).server
  t.equal(server.SCRIPT_NAME, '/env.php', 'the target was mapped like a request for it')
  t.equal(server.PATH_INFO, '/pi')
  t.equal(server.QUERY_STRING, 'from=redirect', 'with the query of the Location')
  t.equal(server.REQUEST_METHOD, 'GET')
})

t.test('a local redirect loop stops with 502', async (t) => {
  const loop = await startFaultServer(t, { ...faults.rawHeaders('Location: /loop/again\r\n\r\n') })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/loop': [{ ...loop.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/loop' })
  t.equal(res.statusCode, 502)
  t.equal(loop.requests.length, 6, 'the first request and 5 hops, no more')
  const after = await app.inject({ url: '/loop' })
  t.equal(after.statusCode, 502, 'and again, without hanging')
})
