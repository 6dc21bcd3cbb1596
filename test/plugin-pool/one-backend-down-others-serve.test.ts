// Issue 3: two backends with one unreachable: every request succeeds on the other; all down: 503.
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('one of two backends unreachable', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t)
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    balance: 'round-robin',
    server: { '.php': { down: { socket: path.join(dir, 'nobody.sock') }, up: { ...php.options } } }
  })
  const statuses: number[] = []
  for (let i = 0; i < 40; i++) statuses.push((await app.inject('/hello.php')).statusCode)
  t.same([...new Set(statuses)], [200], 'every request succeeded')
  const down = app.fastcgi.backends().find((b) => b.name === 'down')
  t.ok(down !== undefined && down.counters.died >= 1, 'the unreachable backend counts a failed connect')
})

t.test('every backend unreachable: 503 with Retry-After', async (t) => {
  const dir = makeTempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ socket: path.join(dir, 'a.sock') }, { socket: path.join(dir, 'b.sock') }] }
  })
  const res = await app.inject('/hello.php')
  t.equal(res.statusCode, 503)
  t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After is set')
  const again = await app.inject('/hello.php')
  t.equal(again.statusCode, 503, 'while both are disabled, still 503')
})
