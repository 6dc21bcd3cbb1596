// Request bodies with a Content-Length stream to the backend byte for byte: 0 B, 1 B,
// 64 KiB - 1 / 64 KiB / 64 KiB + 1 (one FastCGI record's content limit and its neighbours)
// and 10 MiB, binary, checked by md5 through echo.php on php-cgi over real HTTP.
import t from 'tap'
import Fastify from 'fastify'
import { createHash, randomBytes } from 'node:crypto'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'

const md5 = (buf: Buffer): string => createHash('md5').update(buf).digest('hex')

t.test('bodies with Content-Length reach php-cgi intact', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  for (const size of [0, 1, 65535, 65536, 65537, 10 * 1024 * 1024]) {
    // every byte value, in a random order
    const body = randomBytes(size)
    const res = await request(`http://127.0.0.1:${port}/echo.php`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body
    })
    t.equal(res.status, 200, `${size} B: status`)
    t.equal(res.headers['x-request-method'], 'POST', `${size} B: method`)
    t.equal(res.headers['x-body-length'], String(size), `${size} B: PHP read the whole body`)
    t.equal(res.headers['x-body-md5'], md5(body), `${size} B: PHP saw the same bytes`)
    t.equal(res.headers['x-content-length'], String(size), `${size} B: CONTENT_LENGTH`)
    t.equal(res.body.length, size, `${size} B: echoed length`)
    t.equal(md5(res.body), md5(body), `${size} B: echoed bytes are the sent bytes`)
  }
})
