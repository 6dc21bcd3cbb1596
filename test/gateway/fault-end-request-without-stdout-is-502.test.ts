// FCGI_END_REQUEST with no STDOUT at all (no header block): 502.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

t.test('END_REQUEST without STDOUT -> 502', async (t) => {
  const backend = await startFaultServer(t, firstThenOk(faults.endWithoutStdout()))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().statusCode, 502, 'the error body says so too')
  t.ok(backend.connectionCount >= 1, 'the backend was reached')
  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
})
