// An authorizer mapping guarding a prefix (checkLocal: false) in front of a route of the
// application: the route runs after approval and reads the variables in request.fastcgiVariables.
// The authorizer's docroot names its script, so php-cgi's fix_pathinfo runs it for any path
// (SCRIPT_FILENAME = docroot + path, as lighttpd builds it for authorizers).
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('an approved request reaches the application route with request.fastcgiVariables', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  let handled = 0
  const seen: Array<Record<string, string>> = []
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/members/': { gate: { ...gate.options, mode: 'authorizer', checkLocal: false, docroot: join(PHP_FIXTURES, 'auth', 'allow.php') } } }
  })
  app.get('/members/whoami', async (request) => {
    handled++
    seen.push(request.fastcgiVariables)
    return { variables: request.fastcgiVariables }
  })
  app.get('/public', async (request) => ({ variables: request.fastcgiVariables }))

  const res = await app.inject({ url: '/members/whoami' })
  t.equal(res.statusCode, 200)
  t.equal(handled, 1)
  t.same(res.json(), { variables: { REMOTE_USER: 'alice', AUTH_ROLE: 'admin, editor' } })

  const again = await app.inject({ url: '/members/whoami' })
  t.equal(again.statusCode, 200)
  t.equal(handled, 2)
  t.not(seen[0], seen[1], 'each request gets its own object')

  const unguarded = await app.inject({ url: '/public' })
  t.equal(unguarded.statusCode, 200)
  t.same(unguarded.json(), { variables: {} }, 'no authorizer ran: an empty object')
})
