// HTTP/1.0 requests, with no Host header: PHP is told HTTP/1.0 and an empty SERVER_NAME (as
// lighttpd does), the streamed body is delimited by closing the connection (HTTP/1.0 has no
// chunked encoding) and arrives whole; with keep-alive asked for, the body is still complete.
import t from 'tap'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { listenWithPlugin, parseResponse, rawConnect } from './support'

t.test('HTTP/1.0 through php-cgi', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { port } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })

  await t.test('GET without Host: SERVER_PROTOCOL HTTP/1.0, SERVER_NAME empty, body ends with the connection', async (t) => {
    const conn = await rawConnect(t, port)
    await conn.write('GET /env.php?q=1 HTTP/1.0\r\n\r\n')
    const text = await conn.waitFor(() => false, 10_000)
    t.ok(conn.closed(), 'the server closed the connection after the answer')
    const res = parseResponse(text)
    t.equal(res?.status, 200)
    t.not(res?.headers['transfer-encoding'], 'chunked', 'no chunked encoding for an HTTP/1.0 client')
    const env = JSON.parse(res?.body ?? '{}') as { server: Record<string, string> }
    t.equal(env.server.SERVER_PROTOCOL, 'HTTP/1.0')
    t.equal(env.server.SERVER_NAME, '', 'no Host: empty SERVER_NAME')
    t.notOk('HTTP_HOST' in env.server, 'no HTTP_HOST')
    t.equal(env.server.QUERY_STRING, 'q=1')
    t.equal(env.server.REQUEST_URI, '/env.php?q=1')
  })

  await t.test('POST with a body and Connection: keep-alive: the answer is complete either way', async (t) => {
    const conn = await rawConnect(t, port)
    await conn.write('POST /echo.php HTTP/1.0\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello 1.0!\n')
    const text = await conn.waitFor((s) => {
      const r = parseResponse(s)
      return r !== undefined && (r.headers['content-length'] !== undefined || conn.closed())
    }, 10_000)
    const res = parseResponse(text)
    t.equal(res?.status, 200)
    t.equal(res?.body, 'hello 1.0!\n', 'the whole body')
    t.ok(res?.headers['content-length'] !== undefined || conn.closed(), 'delimited by Content-Length or by closing')
    conn.destroy()
  })

  await t.test('a large streamed body over HTTP/1.0 arrives whole', async (t) => {
    const conn = await rawConnect(t, port)
    await conn.write('GET /big.php?bytes=3000000 HTTP/1.0\r\n\r\n')
    const text = await conn.waitFor(() => false, 20_000)
    t.ok(conn.closed())
    const res = parseResponse(text)
    t.equal(res?.status, 200)
    t.equal(res?.body.length, 3_000_000, 'every byte before the close')
    let bad = -1
    const body = res?.body ?? ''
    for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) !== i % 251) { bad = i; break }
    t.equal(bad, -1, 'the pattern is intact')
  })
})
