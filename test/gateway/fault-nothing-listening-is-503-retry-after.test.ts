// Nothing listening on the backend's port (ECONNREFUSED): 503 with Retry-After. Once a backend
// listens there, requests succeed again (after disableTime).
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { freePort } from '../helpers/ports'

t.test('nothing listening -> 503 with Retry-After', async (t) => {
  const port = await freePort()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ host: '127.0.0.1', port, checkLocal: false, disableTime: 200 }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().statusCode, 503)
  t.match(res.headers['retry-after'], /^\d+$/, 'Retry-After in seconds')
  t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After is at least 1 s')
  const again = await app.inject({ url: '/app' })
  t.equal(again.statusCode, 503, 'still 503 while the backend is disabled')
  t.ok(again.headers['retry-after'] !== undefined)

  const backend = await startFaultServer(t, { ...faults.ok(), port })
  let after = await app.inject({ url: '/app' })
  for (let i = 0; i < 50 && after.statusCode !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    after = await app.inject({ url: '/app' })
  }
  t.equal(after.statusCode, 200, 'a normal request works once the backend listens')
  t.equal(after.body, 'ok\n')
  t.ok(backend.requests.length >= 1)
})
