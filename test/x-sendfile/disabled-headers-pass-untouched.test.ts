// A backend without xSendfile: nothing is sent in place of its body. X-Sendfile2 passes to the
// client untouched, as in lighttpd; X-Sendfile and X-LIGHTTPD-* are dropped (lighttpd never
// forwards them either).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('without xSendfile the backend\'s body is the answer', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'f.txt')
  writeFileSync(file, 'FILE CONTENT')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })

  const two = await app.inject({ url: `/sendfile/send.php?h=X-Sendfile2&v=${encodeURIComponent(`${file} 0-3`)}` })
  t.equal(two.statusCode, 200)
  t.equal(two.headers['x-sendfile2'], `${file} 0-3`, 'X-Sendfile2 untouched')
  t.equal(two.body, 'backend body that must not be sent\n')

  for (const header of ['X-Sendfile', 'X-LIGHTTPD-send-file']) {
    const res = await app.inject({ url: `/sendfile/send.php?h=${header}&v=${encodeURIComponent(file)}` })
    t.equal(res.statusCode, 200)
    t.equal(res.body, 'backend body that must not be sent\n', `${header}: the backend's body`)
    t.notOk(res.headers[header.toLowerCase()], `${header}: not forwarded`)
  }
})
