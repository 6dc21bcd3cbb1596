// Fail closed: an authorizer that never answers within readTimeout denies with 504.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('authorizer silent past readTimeout: 504, the route never runs', async (t) => {
  const gate = await startFaultServer(t, faults.stallBeforeHeaders())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/slow/': [{ ...gate.options, mode: 'authorizer', checkLocal: false, readTimeout: 300 }] } })
  let handled = 0
  app.get('/slow/x', async () => { handled++; return 'let through' })
  const started = Date.now()
  const res = await app.inject({ url: '/slow/x' })
  t.equal(res.statusCode, 504)
  t.equal(res.json().code, 'FST_FASTCGI_READ_TIMEOUT')
  t.ok(Date.now() - started < 10_000, 'within the timeout, not the fault server\'s stall')
  t.equal(handled, 0)
  t.equal(gate.requests.length, 1, 'the authorizer was asked')
})
