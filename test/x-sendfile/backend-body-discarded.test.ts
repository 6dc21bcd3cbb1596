// A backend that sends a large body beside X-Sendfile: the file is the answer, the backend
// body is dropped (its connection closed rather than drained without end), and the backend
// serves the next request normally.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('X-Sendfile with a 4 MiB backend body', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'f.txt')
  writeFileSync(file, 'the file\n')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(file)}&body=${4 * 1024 * 1024}` })
    t.equal(res.statusCode, 200)
    t.equal(res.body, 'the file\n')
  }
  const normal = await app.inject({ url: '/hello.php' })
  t.equal(normal.statusCode, 200, 'the backend still answers')
  t.same(app.fastcgi.backends().map((b) => b.load), [0], 'and is free')
})
