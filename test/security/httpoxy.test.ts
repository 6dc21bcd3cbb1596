// httpoxy: a client's Proxy header never becomes HTTP_PROXY (which CGI programs take as their
// outgoing proxy), however it is spelled, over HTTP/1.1 and HTTP/2; and neither the
// application's reply.fastcgi({ params }) (refused with an error) nor anything else sets it. Headers that merely look
// similar keep their own names.
import t from 'tap'
import http2 from 'node:http2'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'

type Server = Record<string, string>

async function envOverRaw (port: number, headerLines: string): Promise<Server> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(`GET /env.php HTTP/1.1\r\nHost: h\r\n${headerLines}Connection: close\r\n\r\n`)
    const res = parseResponse(await conn.waitFor(() => false, 10_000))
    return (JSON.parse(res?.body ?? '{}') as { server: Server }).server
  } finally {
    conn.destroy()
  }
}

t.test('httpoxy through php-cgi', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { port } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  for (const spelling of ['Proxy', 'proxy', 'PROXY', 'pRoXy']) {
    const server = await envOverRaw(port, `${spelling}: http://evil.example:8080/\r\n`)
    t.equal(server.SCRIPT_NAME, '/env.php')
    t.notOk('HTTP_PROXY' in server, `${spelling}: no HTTP_PROXY`)
  }
  const both = await envOverRaw(port, 'Proxy: http://evil.example/\r\nProxy: http://evil2.example/\r\n')
  t.notOk('HTTP_PROXY' in both, 'repeated Proxy: still none')
  const similar = await envOverRaw(port, 'X-Proxy: a\r\nProxy-Authorization: b\r\nProxy_: c\r\nProxy-Connection: d\r\n')
  t.equal(similar.HTTP_X_PROXY, 'a')
  t.equal(similar.HTTP_PROXY_AUTHORIZATION, 'b')
  t.equal(similar.HTTP_PROXY_, 'c', 'Proxy_ is its own name')
  t.notOk('HTTP_PROXY' in similar)
})

t.test('reply.fastcgi params cannot set HTTP_PROXY', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  app.get('/via-reply', (_request, reply) => reply.fastcgi({ mapping: '.php', scriptFilename: `${PHP_FIXTURES}/env.php`, params: { HTTP_PROXY: 'http://evil.example/', APP_VAR: 'kept' } }))
  app.get('/via-reply-ok', (_request, reply) => reply.fastcgi({ mapping: '.php', scriptFilename: `${PHP_FIXTURES}/env.php`, params: { APP_VAR: 'kept' } }))
  const refused = await app.inject({ url: '/via-reply', headers: { proxy: 'http://evil.example/' } })
  t.equal(refused.statusCode, 500, 'an application asking for HTTP_PROXY is told so, not silently served')
  t.equal(refused.json().code, 'FST_FASTCGI_INVALID_PARAMS')
  t.match(refused.json().message, /HTTP_PROXY is set by the gateway/)
  const res = await app.inject({ url: '/via-reply-ok', headers: { proxy: 'http://evil.example/' } })
  t.equal(res.statusCode, 200)
  const server = (JSON.parse(res.body) as { server: Server }).server
  t.equal(server.APP_VAR, 'kept', 'other params are passed')
  t.notOk('HTTP_PROXY' in server, 'HTTP_PROXY is not')
})

t.test('httpoxy over HTTP/2', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const session = http2.connect(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  const body = await new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': '/env.php', proxy: 'http://evil.example/' })
    let text = ''
    stream.on('data', (c: Buffer) => { text += c.toString() })
    stream.on('end', () => resolve(text))
    stream.on('error', reject)
  })
  const server = (JSON.parse(body) as { server: Server }).server
  t.equal(server.SERVER_PROTOCOL, 'HTTP/2.0')
  t.notOk('HTTP_PROXY' in server, 'no HTTP_PROXY over HTTP/2')
})
