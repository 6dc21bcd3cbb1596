// rewriteHeaders(headers, request) changes the backend's response headers before they go out,
// for responder answers and authorizer denials alike, while the framing stays the gateway's.
// onBackendResponse(request, reply, info) is told the backend, its status and its timings once
// the body has ended, for whole and streamed bodies and for the authorizer too.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import fastcgi from '../../plugin'
import type { BackendResponseInfo, ResponseHeaders } from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { until } from '../helpers/backend-client'

function rewrite (headers: ResponseHeaders, request: FastifyRequest): ResponseHeaders {
  const { 'x-powered-by': _php, 'x-powered-by-authz': _authz, 'x-drop': _drop, ...rest } = headers
  return { ...rest, 'x-gateway': `fastcgi ${request.method}`, 'content-length': '1', 'X-Mixed-Case': 'yes' }
}

t.test('rewriteHeaders on responses and denials; onBackendResponse with status and timings', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1, ini: { expose_php: '1' } })
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'remote-user.php') } })
  const reports: BackendResponseInfo[] = []
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { app: php.options } },
    rewriteHeaders: rewrite,
    onBackendResponse: (_request, _reply, info) => { reports.push(info) }
  })
  // the same hooks on a registration whose authorizer denies everyone without a user
  const guarded = Fastify()
  t.teardown(() => guarded.close())
  await guarded.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options } },
    rewriteHeaders: rewrite,
    onBackendResponse: (_request, _reply, info) => { reports.push(info) }
  })

  const res = await app.inject({ url: '/status.php?status=201&header=X-Drop:%20secret' })
  t.equal(res.statusCode, 201)
  t.equal(res.body, 'status.php\n')
  t.equal(res.headers['x-gateway'], 'fastcgi GET', 'a header added by the hook')
  t.equal(res.headers['x-mixed-case'], 'yes', 'names the hook returns are lower-cased')
  t.notOk(res.headers['x-drop'], 'a header removed by the hook')
  t.notOk(res.headers['x-powered-by'])
  t.equal(res.headers['content-length'], String(Buffer.byteLength('status.php\n')), "the hook's Content-Length is ignored: framing is the gateway's")
  t.ok(await until(() => reports.length === 1), 'one report for the whole response')
  const whole = reports[0] as BackendResponseInfo
  t.equal(whole.backend, 'app')
  t.equal(whole.mapping, '.php')
  t.equal(whole.role, 'responder')
  t.equal(whole.status, 201)
  t.ok(whole.timings.firstByte >= 0 && whole.timings.total >= whole.timings.firstByte, 'total includes the time to first byte')

  const bytes = 512 * 1024
  const streamed = await app.inject({ url: `/big.php?bytes=${bytes}` })
  t.equal(streamed.statusCode, 200)
  t.equal(streamed.rawPayload.length, bytes)
  t.equal(streamed.headers['x-gateway'], 'fastcgi GET', 'streamed responses are rewritten too')
  t.ok(await until(() => reports.length === 2), 'reported once the streamed body ended')
  const big = reports[1] as BackendResponseInfo
  t.equal(big.status, 200)
  t.ok(big.timings.total >= big.timings.firstByte)

  const denied = await guarded.inject({ url: '/hello.php' })
  t.equal(denied.statusCode, 401, "the authorizer's denial")
  t.equal(denied.body, 'who are you?\n')
  t.equal(denied.headers['www-authenticate'], 'Basic realm="hooks"')
  t.notOk(denied.headers['x-powered-by-authz'], 'denials go through rewriteHeaders')
  t.equal(denied.headers['x-gateway'], 'fastcgi GET')
  t.equal(denied.headers['content-length'], String(Buffer.byteLength('who are you?\n')))
  t.ok(await until(() => reports.length === 3), 'the authorizer exchange is reported')
  const authz = reports[2] as BackendResponseInfo
  t.equal(authz.role, 'authorizer')
  t.equal(authz.backend, 'gate')
  t.equal(authz.status, 401)
})

t.test('a rewriteHeaders that returns no object is a 500, and the server keeps serving', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  let broken = true
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [php.options] },
    // a JavaScript caller can return anything
    rewriteHeaders: (headers) => (broken ? (null as unknown as ResponseHeaders) : headers)
  })
  const res = await app.inject({ url: '/hello.php' })
  t.equal(res.statusCode, 500)
  t.match(res.json().message, /rewriteHeaders must return an object of headers/)
  broken = false
  const next = await app.inject({ url: '/hello.php' })
  t.equal(next.statusCode, 200)
  t.equal(next.body, 'hello from php\n')
})
