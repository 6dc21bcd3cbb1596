// A denying authorizer (403 with a body of its own) in front of a responder. Also shows what the
// authorizer is sent: role AUTHORIZER, no CONTENT_LENGTH, no SCRIPT_NAME, an empty STDIN even
// when the client POSTs a body.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('403 with the authorizer\'s body, headers, and without Variable- headers', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'deny-403.php') } })
  const responder = await startFaultServer(t, faults.ok('responder\n'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: responder.options } }
  })

  const res = await app.inject({ url: '/echo.php?a=1', method: 'POST', headers: { 'content-type': 'text/plain' }, payload: 'a body the authorizer must not get' })
  t.equal(res.statusCode, 403)
  t.equal(res.body, 'no entry: role=AUTHORIZER uri=/echo.php?a=1 content_length=unset script_name=unset stdin=0\n')
  t.match(res.headers['content-type'], /^text\/plain/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.notOk(res.headers['variable-secret'])
  t.equal(responder.requests.length, 0)

  const plain = await app.inject({ url: '/echo.php', method: 'GET' })
  t.equal(plain.statusCode, 403, 'every request is refused')
  t.equal(responder.requests.length, 0)
})
