// A denying authorizer (Status 401 + WWW-Authenticate) in front of a responder: the client gets
// the authorizer's status, WWW-Authenticate and body; the responder never runs. With the right
// credentials the same authorizer approves and the responder answers.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('401 with WWW-Authenticate goes to the client; the responder is not asked', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'deny-401.php') } })
  const responder = await startFaultServer(t, faults.echoParams())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: responder.options } }
  })

  const denied = await app.inject({ url: '/hello.php' })
  t.equal(denied.statusCode, 401)
  t.equal(denied.headers['www-authenticate'], 'Basic realm="fastcgi"')
  t.match(denied.headers['content-type'], /^text\/plain/)
  t.equal(denied.body, 'credentials required\n')
  t.equal(denied.headers['content-length'], String(Buffer.byteLength('credentials required\n')))
  t.notOk(denied.headers['variable-remote_user'], 'Variable- headers never reach the client')
  t.notOk(Object.keys(denied.headers).some((h) => h.startsWith('variable-')))
  t.equal(responder.requests.length, 0, 'the responder never saw the denied request')

  const approved = await app.inject({ url: '/hello.php', headers: { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` } })
  t.equal(approved.statusCode, 200)
  t.equal(responder.requests.length, 1)
  t.match(approved.body, /^REMOTE_USER=alice$/m, 'the responder got the granted variable')
  t.match(approved.body, /^HTTP_AUTHORIZATION=Basic /m, 'and the request\'s own headers')
})
