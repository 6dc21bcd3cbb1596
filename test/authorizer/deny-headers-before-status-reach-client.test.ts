// A deliberate difference from lighttpd 1.4.69, which drops the headers that come before
// `Status:` in a denial: here every header of the denial reaches the client (WWW-Authenticate
// wherever it stands), except Variable-* and hop-by-hop ones.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('headers before and after Status go to the client; Variable- headers do not', async (t) => {
  const gate = await startFaultServer(t, faults.rawHeaders(
    'WWW-Authenticate: Bearer realm="api"\r\nX-Before: 1\r\nStatus: 401\r\nX-After: 2\r\nVariable-REMOTE_USER: leak\r\nConnection: close\r\nContent-Length: 999\r\n\r\n',
    'token required'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/api/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }] } })
  app.get('/api/x', async () => 'let through')
  const res = await app.inject({ url: '/api/x' })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
  t.equal(res.headers['x-before'], '1')
  t.equal(res.headers['x-after'], '2')
  t.notOk(res.headers['variable-remote_user'])
  t.equal(res.headers['content-length'], String('token required'.length), 'the length is the body\'s, not the authorizer\'s claim')
  t.equal(res.body, 'token required')
})
