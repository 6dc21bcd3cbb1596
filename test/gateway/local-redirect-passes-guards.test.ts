// A local redirect (RFC 3875 6.2.2: `Location: /path`, no Status) is answered as a client's
// request for /path would be: through the authorizer that guards /path, the application's own
// hooks and the router. An open redirect in one backend must not expose a guarded script.
// The redirecting backend is raw (PHP always adds a Status to a Location, so it cannot send a
// local redirect); the guarded scripts are PHP on php-cgi.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { abortMidResponse, request } from '../helpers/http'

const noPhp = !hasPhpCgi() && 'php-cgi missing'

t.test('a script guarded by an authorizer stays guarded when reached by a local redirect', { skip: noPhp }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'deny-403.php') } })
  const php = await startPhpCgi(t, { children: 1 })
  const redirector = await startFaultServer(t, faults.rawHeaders('Location: /hello.php\r\n\r\n'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '/open': [{ ...redirector.options, checkLocal: false }],
      '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options }
    }
  })

  const direct = await app.inject({ url: '/hello.php' })
  t.equal(direct.statusCode, 403, 'a client asking for the script is refused')

  const redirected = await app.inject({ url: '/open' })
  t.equal(redirector.requests.length, 1, 'the unguarded backend answered with its redirect')
  t.equal(redirected.statusCode, 403, 'the redirect is refused by the same authorizer')
  t.match(redirected.body, /^no entry: role=AUTHORIZER uri=\/hello\.php /, 'the authorizer was asked about the target')
  t.not(redirected.body, 'hello from php\n', 'the guarded script did not answer')
})

t.test('the application\'s onRequest hook sees the redirected request and can refuse it', { skip: noPhp }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const redirector = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const target = req.param('QUERY_STRING') === 'admin' ? '/env.php?admin' : '/hello.php'
      await conn.respond(`Location: ${target}\r\n\r\n`, req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  const seen: string[] = []
  app.addHook('onRequest', async (request, reply) => {
    seen.push(`${request.method} ${request.url}`)
    // the application's own guard: admin pages need a token header
    if (request.url.includes('admin') && request.url !== '/go?admin' && request.headers['x-token'] !== 'yes') {
      return reply.code(401).send({ denied: request.url })
    }
  })
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/go': [{ ...redirector.options, checkLocal: false }], '.php': [php.options] }
  })

  const res = await app.inject({ url: '/go', method: 'POST', headers: { 'content-type': 'text/plain' }, payload: 'body of the first request' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'hello from php\n')
  t.same(seen, ['POST /go', 'GET /hello.php'], 'the hook saw the client request and then the redirect, as a GET')

  const refused = await app.inject({ url: '/go?admin' })
  t.equal(refused.statusCode, 401, 'the hook refused the redirected request')
  t.same(refused.json(), { denied: '/env.php?admin' })

  const allowed = await app.inject({ url: '/go?admin', headers: { 'x-token': 'yes' } })
  t.equal(allowed.statusCode, 200, 'with the client\'s header the hook lets the redirect through')
  const server = (allowed.json() as { server: Record<string, string> }).server
  t.equal(server.REQUEST_METHOD, 'GET')
  t.equal(server.REQUEST_URI, '/env.php?admin')
  t.equal(server.HTTP_X_TOKEN, 'yes', 'the client\'s headers go along')
  t.equal(server.HTTP_X_FASTCGI_LOCAL_REDIRECT, undefined, 'the gateway\'s link between the hops does not reach the backend')
  t.equal(server.REMOTE_ADDR, '127.0.0.1', 'the client\'s address')
})

t.test('a redirect to a path no route of the plugin takes is a 302 that keeps its body', async (t) => {
  const redirector = await startFaultServer(t, faults.rawHeaders('Location: /elsewhere/page?x=1\r\nContent-Type: text/plain\r\n\r\n', 'moved to /elsewhere/page\n'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '/go': [{ ...redirector.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/go' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/elsewhere/page?x=1')
  t.equal(res.body, 'moved to /elsewhere/page\n', 'the redirect\'s body goes to the client, as lighttpd sends it')
})

t.test('a client that goes away during a redirected response frees the redirect target\'s backend', { skip: noPhp }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const size = 512 * 1024 * 1024
  const redirector = await startFaultServer(t, faults.rawHeaders(`Location: /big.php?bytes=${size}\r\n\r\n`))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/go': [{ ...redirector.options, checkLocal: false }], '.php': [php.options] }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const aborted = await abortMidResponse(`${base}/go`, 1024 * 1024)
  t.equal(aborted.status, 200, 'the redirected response had started')
  t.ok(aborted.received < size, 'and stopped mid-body')
  // bounded poll: the php-cgi worker is let go once the cancellation reaches it
  let loads = app.fastcgi.backends().map((b) => b.load)
  for (let i = 0; i < 250 && loads.some((l) => l !== 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    loads = app.fastcgi.backends().map((b) => b.load)
  }
  t.same(loads, [0, 0], 'no backend is held by the abandoned redirect')
  const next = await request(`${base}/hello.php`, { timeoutMs: 30_000 })
  t.equal(next.status, 200, 'the single php-cgi worker serves the next request')
  t.equal(next.body.toString(), 'hello from php\n')
})
