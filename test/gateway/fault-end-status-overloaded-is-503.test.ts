// FCGI_END_REQUEST with protocolStatus FCGI_OVERLOADED: 503.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

t.test('FCGI_OVERLOADED -> 503', async (t) => {
  const backend = await startFaultServer(t, firstThenOk(faults.endStatus('overloaded')))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().statusCode, 503, 'the error body says so too')
  t.ok(backend.connectionCount >= 1, 'the backend was reached')
  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
})
