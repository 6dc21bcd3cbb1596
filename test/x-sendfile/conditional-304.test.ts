// Conditional requests on an X-Sendfile response: If-None-Match with the file's ETag and
// If-Modified-Since at or after its mtime give 304 without a body; a stale validator gets 200.
import t from 'tap'
import { utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('If-None-Match / If-Modified-Since -> 304', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'page.html')
  writeFileSync(file, '<p>cached</p>\n')
  const mtime = new Date('2024-01-02T03:04:05Z')
  utimesSync(file, mtime, mtime)
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const url = `/sendfile/send.php?v=${encodeURIComponent(file)}`

  const first = await app.inject({ url })
  t.equal(first.statusCode, 200)
  const etag = first.headers.etag
  t.type(etag, 'string')
  t.equal(first.headers['last-modified'], mtime.toUTCString())

  const again = await app.inject({ url, headers: { 'if-none-match': String(etag) } })
  t.equal(again.statusCode, 304)
  t.equal(again.rawPayload.length, 0)
  t.equal(again.headers.etag, etag)

  const since = await app.inject({ url, headers: { 'if-modified-since': mtime.toUTCString() } })
  t.equal(since.statusCode, 304)

  const stale = await app.inject({ url, headers: { 'if-none-match': '"something-else"' } })
  t.equal(stale.statusCode, 200)
  t.equal(stale.body, '<p>cached</p>\n')
})
