// The status route: route options (a preHandler that denies, onRequest, config), the three
// formats by Accept and by ?format=, and the validation of the status option.
import t from 'tap'
import Fastify from 'fastify'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fastcgi from '../../plugin'
import { negotiateFormat } from '../../plugin/fastify/status-page'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { eventually } from '../helpers/observability'

const skip = !hasPhpCgi() && 'php-cgi missing'

t.test('a preHandler that denies guards the page; config reaches the route', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  const seenConfig: unknown[] = []
  const onRequestCalls: string[] = []
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { php: php.options } },
    status: {
      url: '/fastcgi-status',
      onRequest: async (request: FastifyRequest) => { onRequestCalls.push(request.url) },
      preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
        seenConfig.push(request.routeOptions.config)
        if (request.headers['x-token'] !== 'let-me-in') return reply.code(403).send({ error: 'Forbidden' })
      },
      config: { purpose: 'status' }
    }
  })
  const denied = await app.inject('/fastcgi-status')
  t.equal(denied.statusCode, 403, 'denied without the token')
  t.notMatch(denied.body, /pid|fastcgi_/, 'nothing of the page leaks')
  const allowed = await app.inject({ url: '/fastcgi-status', headers: { 'x-token': 'let-me-in' } })
  t.equal(allowed.statusCode, 200)
  t.match(allowed.body, /^# HELP fastcgi_uptime_seconds /m)
  t.same(onRequestCalls, ['/fastcgi-status', '/fastcgi-status'], 'onRequest ran for both')
  t.match(seenConfig[0], { purpose: 'status' }, 'the route config is the one given')
})

t.test('JSON, HTML and Prometheus by Accept and by ?format=', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { php: php.options } }, statusUrl: '/st' })
  t.equal((await app.inject('/hello.php')).statusCode, 200)
  t.ok(await eventually(() => app.fastcgi.status().mappings[0]?.backends[0]?.requests === 1))

  const prom = await app.inject('/st')
  t.equal(prom.statusCode, 200)
  t.match(prom.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'no Accept: Prometheus text')
  t.match(prom.body, /^fastcgi_responses_total\{mapping="\.php",backend="php",status_class="2xx"\} 1$/m)
  t.equal(prom.headers.vary, 'Accept')

  const scraper = await app.inject({ url: '/st', headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2' } })
  t.match(scraper.headers['content-type'], /^text\/plain/, "Prometheus' own Accept: text")

  const json = await app.inject({ url: '/st', headers: { accept: 'application/json' } })
  t.match(json.headers['content-type'], /^application\/json/)
  const report = json.json()
  t.type(report.uptimeSeconds, 'number')
  t.match(report.mappings, [{ mapping: '.php', backends: [{ backend: 'php', responses: { '2xx': 1 }, processes: [{ pid: null, address: /^(unix|tcp):/ }] }] }])

  const browser = await app.inject({ url: '/st', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
  t.match(browser.headers['content-type'], /^text\/html/)
  t.match(browser.body, /^<!DOCTYPE html>/)
  t.match(browser.body, /<style>/, 'inline CSS')
  t.notMatch(browser.body, /<link|<script|src=/, 'no external assets')
  t.match(browser.body, /Mapping <code>\.php<\/code>/)
  t.match(browser.body, /class="n">1<\/td>/, 'numbers in right-aligned cells')

  const forced = await app.inject({ url: '/st?format=json', headers: { accept: 'text/html' } })
  t.match(forced.headers['content-type'], /^application\/json/, '?format= wins over Accept')
  t.match((await app.inject('/st?format=html')).headers['content-type'], /^text\/html/)
  t.match((await app.inject({ url: '/st?format=prometheus', headers: { accept: 'application/json' } })).headers['content-type'], /^text\/plain/)
  const bad = await app.inject('/st?format=xml')
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, 'format must be json, html or prometheus')
})

t.test('negotiateFormat weighs q-values and prefers specific types', async (t) => {
  t.equal(negotiateFormat(undefined), 'prometheus')
  t.equal(negotiateFormat('*/*'), 'prometheus')
  t.equal(negotiateFormat('application/json;q=0.4, text/html;q=0.9'), 'html')
  t.equal(negotiateFormat('text/*'), 'prometheus')
  t.equal(negotiateFormat('text/html;q=0, application/json'), 'json')
  t.equal(negotiateFormat('*/*;q=0.1, application/json;q=0.1'), 'json', 'a specific type beats */* at the same q')
})

t.test('the status option is validated like the others', async (t) => {
  const server = { '.php': [{ host: '127.0.0.1', port: 9 }] }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['url missing', { status: { preHandler: () => {} } }, /status\.url must be a URL path starting with \/, got undefined/],
    ['url relative', { status: { url: 'st' } }, /status\.url must be a URL path starting with \/, got "st"/],
    ['hook not a function', { status: { url: '/st', preHandler: 'auth' } }, /status\.preHandler must be a hook function or an array of them, got string/],
    ['unknown key', { status: { url: '/st', handler: () => {} } }, /status\.handler is not a status route option \(expected one of: url, onRequest/],
    ['config not an object', { status: { url: '/st', config: 1 } }, /status\.config must be an object, got 1/],
    ['both', { statusUrl: '/a', status: { url: '/b' } }, /statusUrl and status are both set/],
    ['statusUrl relative', { statusUrl: 'a' }, /statusUrl must be a URL path starting with \/, got "a"/]
  ]
  for (const [what, extra, message] of cases) {
    const app = Fastify()
    const err = await app.register(fastcgi, { server, ...extra }).ready().then(() => undefined, (e: unknown) => e)
    t.match(err, { code: 'FST_FASTCGI_INVALID_OPTION', message }, what)
    await app.close()
  }
})

t.test('the HTML view escapes names the configuration gave', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { 'a<b>"&': php.options } }, statusUrl: '/st' })
  t.equal((await app.inject('/hello.php')).statusCode, 200)
  const html = (await app.inject('/st?format=html')).body
  t.notMatch(html, /a<b>/, 'no raw markup from a backend name')
  t.match(html, /a&#60;b&#62;&#34;&#38;/, 'the name, escaped')
})
