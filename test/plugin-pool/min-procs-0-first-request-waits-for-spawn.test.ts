// minProcs 0: no process until the first request, which waits for the spawn (as lighttpd)
// instead of getting a 503.
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('the first request starts the process and is served', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { php: { binPath: findBinary('php-cgi') as string, socket: path.join(dir, 'php.sock'), minProcs: 0, maxProcs: 1 } } }
  })
  t.equal(app.fastcgi.backends().filter((b) => b.pid !== null).length, 0, 'no process before the first request')
  const res = await app.inject('/hello.php')
  t.equal(res.statusCode, 200, 'served, not 503')
  t.ok(app.fastcgi.backends()[0]?.pid, 'a process runs now')
})
