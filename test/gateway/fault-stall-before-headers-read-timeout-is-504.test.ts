// A backend that reads the request and never answers: with readTimeout 300 ms, 504.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

t.test('stall before headers, readTimeout 300 -> 504', async (t) => {
  const backend = await startFaultServer(t, firstThenOk(faults.stallBeforeHeaders()))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, readTimeout: 300 }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 504)
  t.equal(res.json().statusCode, 504, 'the error body says so too')
  t.ok(backend.connectionCount >= 1, 'the backend was reached')
  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
})
