// An idle kept connection pins a prefork worker, so it is closed soon after its last request:
// after keepAliveTimeout, or after the linger (100 ms) when that is shorter, so that other
// clients of a shared backend never wait for it. Requests that come more often than that keep
// using one connection.
import t from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

for (const keepAliveTimeout of [60, 30_000]) {
  t.test(`keepAliveTimeout ${keepAliveTimeout}: busy within it, one connection; idle past it, closed`, async (t) => {
    const backend = await startFaultServer(t, faults.ok())
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, keepAlive: true, keepAliveTimeout }] } })
    for (let i = 0; i < 8; i++) {
      const res = await app.inject({ url: '/app' })
      t.equal(res.body, 'ok\n')
      await sleep(5)
    }
    t.ok(backend.connectionCount < 8, `8 requests 5 ms apart reused kept connections (${backend.connectionCount} connections; 1 unless the machine stalls)`)
    // closed after min(keepAliveTimeout, linger): far below 30 s, awaited with a bound of 10 s
    const deadline = Date.now() + 10_000
    while (backend.openConnections > 0 && Date.now() < deadline) await sleep(20)
    t.equal(backend.openConnections, 0, 'closed once idle')
    const before = backend.connectionCount
    const again = await app.inject({ url: '/app' })
    t.equal(again.body, 'ok\n', 'the next request opens a new connection')
    t.equal(backend.connectionCount, before + 1)
  })
}
