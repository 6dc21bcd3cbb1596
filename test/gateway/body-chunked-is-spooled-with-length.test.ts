// A chunked request body (no Content-Length) is spooled and reaches php-cgi with its
// CONTENT_LENGTH. Beyond spoolMemoryLimit it goes through a temp file in spoolDirectory,
// which is gone once the request is over.
import t from 'tap'
import Fastify from 'fastify'
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, watch } from 'node:fs'
import { Readable } from 'node:stream'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'

const md5 = (buf: Buffer): string => createHash('md5').update(buf).digest('hex')

/** The body as a stream of 64 KiB pieces, so that node:http sends it chunked. */
function chunked (body: Buffer): Readable {
  const pieces: Buffer[] = []
  for (let i = 0; i < body.length; i += 65536) pieces.push(body.subarray(i, i + 65536))
  return Readable.from(pieces)
}

t.test('a 3 MiB chunked body is spooled to a temp file and sent with CONTENT_LENGTH', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 })
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    spoolMemoryLimit: 1024 * 1024,
    spoolDirectory,
    server: { '.php': [php.options] }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  // every name that appears in the spool directory while the request runs
  const seen = new Set<string>()
  const watcher = watch(spoolDirectory, (_event, name) => { if (name !== null) seen.add(String(name)) })
  t.teardown(() => watcher.close())

  const size = 3 * 1024 * 1024
  const body = randomBytes(size)
  const res = await request(`http://127.0.0.1:${port}/echo.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    body: chunked(body)
  })
  t.equal(res.status, 200)
  t.equal(res.headers['x-content-length'], String(size), 'CONTENT_LENGTH is the spooled length')
  t.equal(res.headers['x-body-length'], String(size), 'PHP read all of it')
  t.equal(res.headers['x-body-md5'], md5(body), 'PHP saw the same bytes')
  t.equal(md5(res.body), md5(body), 'echoed bytes are the sent bytes')

  t.ok(seen.size > 0, 'a temp file was created in spoolDirectory')
  // the file is removed when the reply is over; allow the unlink a few turns of the loop
  let left = readdirSync(spoolDirectory)
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    left = readdirSync(spoolDirectory)
  }
  t.same(left, [], 'the temp file is removed afterwards')
})

t.test('a small chunked body stays in memory and still gets CONTENT_LENGTH', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 1024 * 1024, spoolDirectory, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const seen = new Set<string>()
  const watcher = watch(spoolDirectory, (_event, name) => { if (name !== null) seen.add(String(name)) })
  t.teardown(() => watcher.close())

  const body = randomBytes(200 * 1024)
  const res = await request(`http://127.0.0.1:${port}/echo.php`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    body: chunked(body)
  })
  t.equal(res.status, 200)
  t.equal(res.headers['x-content-length'], String(body.length))
  t.equal(res.headers['x-body-md5'], md5(body))
  t.equal(seen.size, 0, 'no temp file for a body under spoolMemoryLimit')
})
