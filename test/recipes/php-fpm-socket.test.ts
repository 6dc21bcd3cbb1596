// Recipe "PHP through php-fpm on a unix socket" (docs/recipes.md).
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'

t.test('php-fpm on a unix socket', { skip: !hasPhpFpm() && 'php-fpm not installed' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  if (fpm.address.kind !== 'unix') throw new Error('expected a unix socket')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: PHP_FIXTURES,
    indexFiles: ['index.php'],
    server: { '.php': [{ socket: fpm.address.path }] }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)

  const res = await app.inject({ url: '/env.php?a=b', headers: { 'user-agent': 'recipe' } })
  t.equal(res.statusCode, 200)
  const { sapi, server } = JSON.parse(res.body) as { sapi: string, server: Record<string, string> }
  t.equal(sapi, 'fpm-fcgi')
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'))
  t.equal(server.DOCUMENT_ROOT, PHP_FIXTURES)
  t.equal(server.QUERY_STRING, 'a=b')
  t.equal(server.HTTP_USER_AGENT, 'recipe')

  // checkLocal (the default) answers 404 for a missing script without asking php-fpm
  const missing = await app.inject({ url: '/missing.php' })
  t.equal(missing.statusCode, 404)
  t.notMatch(fpm.log(), 'Primary script unknown')
})
