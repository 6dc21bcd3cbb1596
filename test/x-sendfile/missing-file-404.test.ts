// X-Sendfile naming a file that does not exist: 404 (not the backend's body, not a 500).
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('missing file: 404', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  for (const path of [join(dir, 'nope.txt'), join(dir, 'no-dir', 'nope.txt')]) {
    const res = await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(path)}` })
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'FST_FASTCGI_SENDFILE_NOT_FOUND')
    t.notMatch(res.body, 'backend body')
    t.notMatch(res.body, dir, 'the path is not told to the client')
  }
})
