// X-Sendfile of a small file: the file is the body (not the backend's), with its length and a
// MIME type from its name; the backend's other headers (Content-Type when it set one,
// Content-Disposition, Cache-Control) go along; no X-Sendfile header reaches the client.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('X-Sendfile sends the named file with the backend\'s headers', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'hello.txt')
  writeFileSync(file, 'hello from a file\n')
  // no default Content-Type from PHP, so the gateway's MIME type shows
  const php = await startPhpCgi(t, { ini: { default_mimetype: '' } })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })

  const res = await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(file)}&disposition=${encodeURIComponent('attachment; filename="hello.txt"')}` })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'hello from a file\n')
  t.equal(res.headers['content-length'], '18')
  t.match(res.headers['content-type'], /^text\/plain/, 'MIME type from the file name')
  t.equal(res.headers['content-disposition'], 'attachment; filename="hello.txt"')
  t.equal(res.headers['cache-control'], 'private, max-age=60', 'the backend\'s Cache-Control, not a default')
  t.equal(res.headers['x-from-backend'], 'yes')
  t.equal(res.headers['accept-ranges'], 'bytes')
  t.ok(res.headers.etag)
  t.notOk(res.headers['x-sendfile'])

  const typed = await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(file)}&type=${encodeURIComponent('application/x-report')}` })
  t.equal(typed.statusCode, 200)
  t.equal(typed.headers['content-type'], 'application/x-report', 'a Content-Type the backend set wins')
  t.equal(typed.body, 'hello from a file\n')

  const head = await app.inject({ method: 'HEAD', url: `/sendfile/send.php?v=${encodeURIComponent(file)}` })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['content-length'], '18')
  t.equal(head.body, '')
})
