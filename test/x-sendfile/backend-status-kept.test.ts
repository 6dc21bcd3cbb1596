// A backend status other than 200 with X-Sendfile is kept, and the file is its body (lighttpd:
// an error page from a file, say), without Range or validators.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('Status: 404 + X-Sendfile sends the file with 404', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const page = join(dir, '404.html')
  writeFileSync(page, '<h1>gone</h1>\n')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const res = await app.inject({ url: `/sendfile/send.php?status=404&type=text%2Fhtml&v=${encodeURIComponent(page)}`, headers: { range: 'bytes=0-1' } })
  t.equal(res.statusCode, 404)
  t.equal(res.body, '<h1>gone</h1>\n')
  t.equal(res.headers['content-length'], '14')
  t.match(res.headers['content-type'], /^text\/html/, 'the backend\'s type')
  t.notOk(res.headers.etag)
})
