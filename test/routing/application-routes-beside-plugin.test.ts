// The application's own routes keep working beside the plugin: exact routes win over the
// plugin's wildcard, and they keep Fastify's body parsing (the plugin's routes take raw bodies).
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test("the application's routes beside the plugin", { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/', async () => 'home')
  app.post('/api/items', async (request) => ({ got: request.body }))
  app.get('/hello.php', async () => 'the application owns this one')
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })

  t.equal((await app.inject({ url: '/' })).body, 'home')
  const json = await app.inject({ method: 'POST', url: '/api/items', payload: { a: [1, 2] } })
  t.equal(json.statusCode, 200)
  t.same(json.json(), { got: { a: [1, 2] } }, 'JSON still parsed for the application')
  t.equal((await app.inject({ url: '/hello.php' })).body, 'the application owns this one', 'an exact route wins over the plugin')

  // and the plugin's own routes get the raw JSON body
  const echoed = await app.inject({ method: 'POST', url: '/echo.php', payload: '{"a":1}', headers: { 'content-type': 'application/json' } })
  t.equal(echoed.statusCode, 200)
  t.equal(echoed.body, '{"a":1}')
  t.equal(echoed.headers['x-content-type'], 'application/json')
  t.equal((await app.inject({ url: '/nothing-here' })).statusCode, 404)
})
