// An approving authorizer (no Status, Variable-* headers) in front of a responder under the
// same key: the responder's PHP sees the variables in $_SERVER, the client sees the responder.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

const AUTH = join(PHP_FIXTURES, 'auth')

t.test('Variable- headers of an approving authorizer reach the responder as CGI variables', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(AUTH, 'allow.php') } })
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options } }
  })
  const res = await app.inject({ url: '/env.php?x=1' })
  t.equal(res.statusCode, 200)
  t.notOk(res.headers['x-authorizer-only'], 'the authorizer\'s other headers are not the answer')
  t.notOk(res.headers['variable-remote_user'])
  const env = JSON.parse(res.body) as { server: Record<string, string> }
  t.equal(env.server.REMOTE_USER, 'alice')
  t.equal(env.server.AUTH_ROLE, 'admin, editor', 'repeated names are joined with ", "')
  t.equal(env.server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'))
  t.equal(env.server.FCGI_ROLE, 'RESPONDER')
  t.notMatch(res.body, 'approved, and this body is discarded')
})
