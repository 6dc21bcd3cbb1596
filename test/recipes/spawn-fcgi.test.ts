// Recipe "An application started by spawn-fcgi" (docs/recipes.md): spawn-fcgi creates the
// socket and starts php-cgi (its own processes, its own user); the plugin only connects.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { hasSpawnFcgi, startFd0App } from '../helpers/libfcgi'

t.test('php-cgi started by spawn-fcgi', { skip: (!hasSpawnFcgi() && 'spawn-fcgi not installed') || (!hasPhpCgi() && 'php-cgi not installed') }, async (t) => {
  // spawn-fcgi -n -s SOCKET -M 0666 -- php-cgi, with PHP_FCGI_CHILDREN=2 in its environment
  const app0 = await startFd0App(t, [findBinary('php-cgi') as string], { via: 'spawn-fcgi', env: { PHP_FCGI_CHILDREN: '2' } })
  if (app0.address.kind !== 'unix') throw new Error('expected a unix socket')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ socket: app0.address.path }] }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)

  const res = await app.inject({ url: '/hello.php' })
  t.equal(res.statusCode, 200)
  t.ok(res.body.length > 0)
  const env = JSON.parse((await app.inject({ url: '/env.php' })).body) as { sapi: string, server: Record<string, string> }
  t.equal(env.sapi, 'cgi-fcgi')
  t.equal(env.server.PHP_FCGI_CHILDREN, '2', 'the environment spawn-fcgi passed on')
  t.equal(app.fastcgi.backends()[0]?.isLocal, false, 'the plugin did not spawn it')
})
