// HTTP/2 (cleartext, Fastify's `http2: true`) in front of php-cgi: PHP sees SERVER_PROTOCOL
// HTTP/2.0 and the authority as SERVER_NAME and HTTP_HOST (lighttpd turns :authority into
// Host), no pseudo-header leaks into the environment, bodies go both ways whole (a request
// body without content-length is spooled and sent with CONTENT_LENGTH), many streams run at
// once on one connection, and a stream reset mid-response frees the backend.
import t from 'tap'
import http2 from 'node:http2'
import { createHash } from 'node:crypto'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { loadsBackToZero } from './support'

interface H2Response { status: number, headers: http2.IncomingHttpHeaders, body: Buffer }

function h2request (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | Buffer[]): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined })
    const chunks: Buffer[] = []
    let status = 0
    let responseHeaders: http2.IncomingHttpHeaders = {}
    stream.on('response', (h) => { responseHeaders = h; status = Number(h[':status']) })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks) }))
    stream.on('error', reject)
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Error('h2 request timed out')) }, 20_000)
    stream.on('close', () => clearTimeout(timer))
    if (Array.isArray(body)) {
      for (const part of body) stream.write(part)
      stream.end()
    } else if (body !== undefined) stream.end(body)
  })
}

t.test('HTTP/2 through the plugin', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })

  await t.test('the CGI environment of an HTTP/2 request', async (t) => {
    const res = await h2request(session, { ':method': 'GET', ':path': '/env.php/extra?x=1', ':authority': `Example.ORG:${port}`, 'x-custom': 'v', cookie: ['a=1', 'b=2'] })
    t.equal(res.status, 200)
    const server = (JSON.parse(res.body.toString()) as { server: Record<string, string> }).server
    t.equal(server.SERVER_PROTOCOL, 'HTTP/2.0')
    t.equal(server.SERVER_NAME, 'example.org', 'authority, lowercased, without port')
    t.equal(server.HTTP_HOST, `Example.ORG:${port}`, 'the authority reaches PHP as HTTP_HOST, as lighttpd passes it')
    t.equal(server.REQUEST_URI, '/env.php/extra?x=1')
    t.equal(server.PATH_INFO, '/extra')
    t.equal(server.QUERY_STRING, 'x=1')
    t.equal(server.HTTP_X_CUSTOM, 'v')
    t.equal(server.HTTP_COOKIE, 'a=1; b=2', 'split cookie headers are joined with "; "')
    t.same(Object.keys(server).filter((k) => k.startsWith('HTTP__') || k.includes(':')), [], 'no pseudo-header became a variable')
  })

  await t.test('a request body without content-length (HTTP/2 has no chunked) reaches PHP with CONTENT_LENGTH', async (t) => {
    const parts = Array.from({ length: 20 }, (_v, i) => Buffer.alloc(10_000, i))
    const res = await h2request(session, { ':method': 'POST', ':path': '/echo.php', 'content-type': 'application/octet-stream' }, parts)
    const whole = Buffer.concat(parts)
    t.equal(res.status, 200)
    t.equal(res.headers['x-content-length'], String(whole.length))
    t.equal(res.headers['x-body-md5'], createHash('md5').update(whole).digest('hex'))
    const bare = await h2request(session, { ':method': 'PUT', ':path': '/echo.php' }, Buffer.from('no content-type, no length'))
    t.equal(bare.body.toString(), 'no content-type, no length', 'a body without content-type either')
    const empty = await h2request(session, { ':method': 'POST', ':path': '/echo.php' })
    t.equal(empty.headers['x-content-length'], '0', 'a stream ended with its headers has no body')
  })

  await t.test('30 streams at once on one connection, each with its own answer', async (t) => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_v, i) =>
      h2request(session, { ':method': 'GET', ':path': `/env.php?n=${i}` })))
    t.same(answers.map((a) => a.status), answers.map(() => 200))
    t.same(answers.map((a) => (JSON.parse(a.body.toString()) as { server: Record<string, string> }).server.QUERY_STRING), answers.map((_a, i) => `n=${i}`))
  })

  await t.test('a large response, and a stream reset mid-response that frees the backend', async (t) => {
    const big = await h2request(session, { ':method': 'GET', ':path': '/big.php?bytes=5000000' })
    t.equal(big.body.length, 5_000_000)
    const stream = session.request({ ':method': 'GET', ':path': `/big.php?bytes=${500 * 1024 * 1024}` })
    let got = 0
    await new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => {
        got += c.length
        if (got > 1024 * 1024) { stream.close(http2.constants.NGHTTP2_CANCEL); resolve() }
      })
      stream.on('close', () => resolve())
    })
    t.ok(got > 1024 * 1024 && got < 500 * 1024 * 1024, 'reset mid-body')
    t.same(await loadsBackToZero(app), [0], 'the backend is let go')
    const after = await h2request(session, { ':method': 'HEAD', ':path': '/hello.php' })
    t.equal(after.status, 200, 'and serves the next stream')
    t.equal(after.body.length, 0, 'HEAD has no body')
  })
})
