// Requests whose CGI environment would carry something other than what the client meant are
// refused with a 400 before any backend sees them: a Host that is no host[:port], two header
// spellings that become one CGI name (or a spelling that passes for a well-known header), and
// a path that decodes to control characters. Each is checked on every path that builds params:
// the plugin's routes through php-cgi, reply.fastcgi, and the authorizer; each 400 is logged
// with what was wrong. lighttpd 1.4.69 (the comparison gateway) answers 400 to the same Hosts
// and paths; its header-conflict check came in 1.4.83, so that one is not compared.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { hasLighttpd, startLighttpd } from '../helpers/lighttpd'
import { startFaultServer, faults } from '../helpers/fault-server'
import { captureLog } from '../helpers/log-capture'
import { parseResponse, rawConnect } from '../hardening/support'

interface Answer { status: number, body: string }

async function rawRequest (port: number, target: string, headerLines: string): Promise<Answer> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(Buffer.from(`GET ${target} HTTP/1.1\r\n${headerLines}Connection: close\r\n\r\n`, 'latin1'))
    const res = parseResponse(await conn.waitFor((text) => parseResponse(text) !== undefined, 15_000))
    return { status: res?.status ?? 0, body: res?.body ?? '' }
  } finally {
    conn.destroy()
  }
}

const BAD_HOSTS = ['../../etc', 'a b', 'evil.com/x', 'user@evil.com', 'h:port', '[::1', 'a..b']
const CONTROL_PATHS = ['/env.php/x%0ay', '/env.php/%0d%0aSet-Cookie:%20x=1', '/env.php%0a.php', '/env.php/a%01b', '/env.php/%7f']

t.test('through php-cgi: bad Host, colliding names and control characters are 400s, and logged', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  const good = await rawRequest(port, '/env.php', 'Host: good.test:8080\r\nX-Foo: a\r\n')
  t.equal(good.status, 200, 'a good request passes')
  const server = (JSON.parse(good.body) as { server: Record<string, string> }).server
  t.equal(server.SERVER_NAME, 'good.test')
  t.equal(server.HTTP_X_FOO, 'a')

  for (const host of BAD_HOSTS) {
    const res = await rawRequest(port, '/env.php', `Host: ${host}\r\n`)
    t.equal(res.status, 400, `Host ${JSON.stringify(host)}: 400`)
    t.notMatch(res.body, /SERVER_NAME/, 'PHP never ran')
  }
  t.ok(log.find('Host is not a valid host[:port]'), 'the log says the Host was wrong')
  t.equal((await rawRequest(port, '/env.php', 'Host: a.test\r\nHost: b.test\r\n')).status, 400, 'two Hosts: 400')

  for (const headers of ['X-Foo: a\r\nX_Foo: planted\r\n', 'X_Foo: planted\r\nx-foo: a\r\n', 'X-Forwarded-For: 10.0.0.1\r\nX_Forwarded_For: 127.0.0.1\r\n', 'X_Forwarded_For: 127.0.0.1\r\n']) {
    const res = await rawRequest(port, '/env.php', `Host: h.test\r\n${headers}`)
    t.equal(res.status, 400, `${JSON.stringify(headers)}: 400`)
  }
  t.ok(log.find(/"X-Foo" and "X_Foo" both become HTTP_X_FOO/), 'the log names both headers')
  t.ok(log.find(/"X_Forwarded_For" would pass for x-forwarded-for/))

  for (const path of CONTROL_PATHS) {
    t.equal((await rawRequest(port, path, 'Host: h.test\r\n')).status, 400, `${path}: 400`)
  }
  t.ok(log.find('control character 0x0a in path'), 'the log names the character')
  t.notOk(log.lines.some((l) => JSON.stringify(l).includes('planted')), 'header values are never logged')
})

t.test('lighttpd answers the same Hosts and paths with 400', { skip: (!hasPhpCgi() || !hasLighttpd()) && 'php-cgi or lighttpd missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const lighttpd = await startLighttpd(t, { documentRoot: PHP_FIXTURES, fastcgiServer: { '.php': [{ ...php.options }] } })
  t.equal((await rawRequest(lighttpd.port, '/env.php', 'Host: good.test:8080\r\n')).status, 200)
  for (const host of BAD_HOSTS) t.equal((await rawRequest(lighttpd.port, '/env.php', `Host: ${host}\r\n`)).status, 400, `lighttpd, Host ${JSON.stringify(host)}`)
  for (const path of CONTROL_PATHS) t.equal((await rawRequest(lighttpd.port, path, 'Host: h.test\r\n')).status, 400, `lighttpd, ${path}`)
})

t.test('reply.fastcgi and the authorizer refuse them too; nothing reaches a backend', async (t) => {
  const backend = await startFaultServer(t, faults.ok())
  const gate = await startFaultServer(t, faults.rawHeaders('Status: 200\r\n\r\n', ''))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [backend.options], '/members/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }] }
  })
  const reached: string[] = []
  app.get('/members/*', async (req) => { reached.push(req.url); return 'members area' })
  app.get('/via-reply', (_request, reply) => reply.fastcgi({ mapping: '.php', scriptFilename: '/x.php' }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  t.equal((await rawRequest(port, '/via-reply', 'Host: h.test\r\n')).status, 200, 'a good request reaches the backend')
  t.equal((await rawRequest(port, '/members/x', 'Host: h.test\r\n')).status, 200, 'and passes the authorizer')
  const before = { backend: backend.requests.length, gate: gate.requests.length }
  for (const target of ['/via-reply', '/members/x']) {
    t.equal((await rawRequest(port, target, 'Host: ../../etc\r\n')).status, 400, `${target}: bad Host`)
    t.equal((await rawRequest(port, target, 'Host: h.test\r\nX-A: 1\r\nX_A: 2\r\n')).status, 400, `${target}: colliding names`)
  }
  t.equal((await rawRequest(port, '/members/x%0a', 'Host: h.test\r\n')).status, 400, 'authorizer: control character in the path')
  t.same({ backend: backend.requests.length, gate: gate.requests.length }, before, 'neither the responder nor the authorizer was asked')
  t.same(reached, ['/members/x'], 'the guarded route ran only for the good request')
})
