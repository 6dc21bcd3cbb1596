// A kept connection is closed once it has been idle for keepAliveTimeout (it pins a prefork
// worker), and is not closed while requests keep coming more often than that.
import t from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('busy within the timeout: one connection; idle past it: closed', async (t) => {
  const backend = await startFaultServer(t, faults.ok())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, keepAlive: true, keepAliveTimeout: 400 }] } })
  for (let i = 0; i < 8; i++) {
    const res = await app.inject({ url: '/app' })
    t.equal(res.body, 'ok\n')
    await sleep(150)
  }
  t.equal(backend.connectionCount, 1, '8 requests 150 ms apart (1.2 s in all) used one kept connection')
  t.equal(backend.openConnections, 1, 'and it is still open')
  const deadline = Date.now() + 5000
  while (backend.openConnections > 0 && Date.now() < deadline) await sleep(50)
  t.equal(backend.openConnections, 0, 'closed after 400 ms of idleness')
  const again = await app.inject({ url: '/app' })
  t.equal(again.body, 'ok\n', 'the next request opens a new connection')
  t.equal(backend.connectionCount, 2)
})
