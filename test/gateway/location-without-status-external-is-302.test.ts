// A Location header with an absolute URL and no Status: the client gets 302 with that Location
// (RFC 3875 6.2.3). PHP always adds a Status itself, so a raw backend sends only the Location.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('Location: http://... without Status -> 302', async (t) => {
  const backend = await startFaultServer(t, { ...faults.rawHeaders('Location: http://example.test/elsewhere?a=1\r\n\r\n') })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, 'http://example.test/elsewhere?a=1')
  t.equal(backend.requests.length, 1, 'not followed by the gateway')
})

t.test('Location with an explicit Status keeps that Status', async (t) => {
  const backend = await startFaultServer(t, { ...faults.rawHeaders('Status: 301\r\nLocation: /somewhere\r\n\r\n') })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 301, 'a local path with a Status is for the client, not a local redirect')
  t.equal(res.headers.location, '/somewhere')
  t.equal(backend.requests.length, 1)
})

t.test('php-cgi: header("Location: ...") gives the client a redirect', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await app.inject({ url: '/status.php?location=https%3A%2F%2Fexample.test%2Fx' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, 'https://example.test/x')
})
