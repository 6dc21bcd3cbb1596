// Range requests on an X-Sendfile response: 206 with Content-Range and only those bytes; an
// unsatisfiable range is 416 with `Content-Range: bytes */size`.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('Range: 206 and 416', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'digits.txt')
  writeFileSync(file, '0123456789')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const url = `/sendfile/send.php?v=${encodeURIComponent(file)}`

  const part = await app.inject({ url, headers: { range: 'bytes=2-5' } })
  t.equal(part.statusCode, 206)
  t.equal(part.body, '2345')
  t.equal(part.headers['content-range'], 'bytes 2-5/10')
  t.equal(part.headers['content-length'], '4')

  const tail = await app.inject({ url, headers: { range: 'bytes=-3' } })
  t.equal(tail.statusCode, 206)
  t.equal(tail.body, '789')

  const beyond = await app.inject({ url, headers: { range: 'bytes=20-30' } })
  t.equal(beyond.statusCode, 416)
  t.equal(beyond.headers['content-range'], 'bytes */10')
  t.notMatch(beyond.body, 'backend body')

  const whole = await app.inject({ url })
  t.equal(whole.statusCode, 200)
  t.equal(whole.body, '0123456789')
})
