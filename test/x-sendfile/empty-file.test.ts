// X-Sendfile of an empty file: 200, Content-Length 0, an empty body (not the backend's).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('X-Sendfile of an empty file', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'empty.bin')
  writeFileSync(file, '')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const res = await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(file)}` })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], '0')
  t.equal(res.rawPayload.length, 0)
  t.notOk(res.headers['x-sendfile'])
})
