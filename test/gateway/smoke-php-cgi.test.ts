import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('php-cgi answers through the plugin', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await app.inject({ url: '/env.php/extra?x=1', headers: { cookie: 'a=1' } })
  t.equal(res.statusCode, 200)
  const env = JSON.parse(res.body)
  console.log(env)
})
