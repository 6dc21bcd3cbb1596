// `methods`: WebDAV methods (and any other Node's parser takes) reach the backend when asked
// for; those Fastify does not know are added to it. A PHP script answers with REQUEST_METHOD.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'

function methodOf (body: string): string | undefined {
  return (JSON.parse(body) as { server: Record<string, string> }).server.REQUEST_METHOD
}

t.test('PROPFIND and MKCOL reach php-cgi when listed in methods', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, methods: ['PROPFIND', 'MKCOL'], server: { '.php': [php.options] } })

  const xml = '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>'
  const propfind = await app.inject({ method: 'PROPFIND', url: '/env.php', headers: { depth: '1', 'content-type': 'application/xml' }, payload: xml })
  t.equal(propfind.statusCode, 200)
  t.equal(methodOf(propfind.body), 'PROPFIND')
  const server = (JSON.parse(propfind.body) as { server: Record<string, string> }).server
  t.equal(server.HTTP_DEPTH, '1', 'the WebDAV headers go along')
  t.equal(server.CONTENT_LENGTH, String(Buffer.byteLength(xml)), 'and the body')

  const mkcol = await app.inject({ method: 'MKCOL', url: '/env.php/new-collection' })
  t.equal(mkcol.statusCode, 200)
  t.equal(methodOf(mkcol.body), 'MKCOL')
  t.equal((JSON.parse(mkcol.body) as { server: Record<string, string> }).server.PATH_INFO, '/new-collection')

  // and over a real socket, through Node's HTTP parser
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const overTcp = await request(`${base}/env.php`, { method: 'PROPFIND', timeoutMs: 15_000 })
  t.equal(overTcp.status, 200)
  t.equal(methodOf(overTcp.body.toString('utf8')), 'PROPFIND')
})

t.test('without methods, a WebDAV method is not sent to the backend', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await app.inject({ method: 'PROPFIND', url: '/env.php' })
  t.not(res.statusCode, 200)
  t.notMatch(res.body, /REQUEST_METHOD/)
})

t.test('a method Node does not parse fails register()', async (t) => {
  for (const [method, why] of [['propfind', /upper case: 'PROPFIND'/], ['FROB', /not a method Node's HTTP parser accepts/]] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastcgi, { documentRoot: PHP_FIXTURES, methods: [method], server: { '.php': [{ host: '127.0.0.1', port: 9 }] } }) }, { code: 'FST_FASTCGI_INVALID_OPTION', message: why })
  }
})
