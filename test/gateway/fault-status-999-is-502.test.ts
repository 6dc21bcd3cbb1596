// Status: 999 from the backend: Fastify refuses statuses above 599, so the gateway answers 502.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

t.test('Status 999 -> 502', async (t) => {
  const backend = await startFaultServer(t, firstThenOk(faults.rawHeaders('Status: 999 Weird\r\nContent-Type: text/plain\r\nX-From-Backend: yes\r\n\r\n', 'body')))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().statusCode, 502, 'the error body says so too')
  t.equal(res.headers['x-from-backend'], undefined, 'none of the backend headers go out with the 502')
  t.equal(backend.requests.length, 1, 'the backend got the request')
  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
})
