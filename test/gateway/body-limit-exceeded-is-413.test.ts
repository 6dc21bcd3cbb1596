// Fastify's bodyLimit holds for the plugin's routes: a body over it answers 413, whether its
// size is announced (Content-Length) or only found out while spooling (chunked). The backend
// never gets such a request, and the server keeps serving.
import t from 'tap'
import Fastify from 'fastify'
import { Readable } from 'node:stream'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'

const LIMIT = 64 * 1024

t.test('bodies over bodyLimit answer 413', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify({ bodyLimit: LIMIT })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/echo.php`

  const tooBig = Buffer.alloc(LIMIT + 1, 0x41)
  const withLength = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(tooBig.length) },
    body: tooBig,
    allowAbort: true
  })
  t.equal(withLength.status, 413, 'Content-Length over the limit: 413')

  const pieces = [tooBig.subarray(0, 40000), tooBig.subarray(40000)]
  const chunked = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    body: Readable.from(pieces),
    allowAbort: true
  })
  t.equal(chunked.status, 413, 'chunked body over the limit: 413')

  const atLimit = Buffer.alloc(LIMIT, 0x42)
  const ok = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    body: Readable.from([atLimit])
  })
  t.equal(ok.status, 200, 'a body of exactly bodyLimit still passes')
  t.equal(ok.headers['x-body-length'], String(LIMIT))
})

t.test('the backend never sees an oversized request', async (t) => {
  const backend = await startFaultServer(t, { ...faults.echoStdin() })
  const app = Fastify({ bodyLimit: LIMIT })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
    body: Readable.from([Buffer.alloc(LIMIT), Buffer.alloc(10)]),
    allowAbort: true
  })
  t.equal(res.status, 413)
  const res2 = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': String(LIMIT * 2) }, body: Buffer.alloc(LIMIT * 2), allowAbort: true })
  t.equal(res2.status, 413)
  t.equal(backend.requests.length, 0, 'no request reached the backend')
  const after = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'small' })
  t.equal(after.status, 200)
  t.equal(after.headers['x-stdin-length'], '5')
})
