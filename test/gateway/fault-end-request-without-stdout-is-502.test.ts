// FCGI_END_REQUEST with no STDOUT at all (no header block): 502.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import type { FaultBehaviour } from '../helpers/fault-server'

/** The fault on the first connection's first request; every later request gets a normal answer. */
function firstThenOk (fault: FaultBehaviour): FaultBehaviour {
  return {
    onConnection: async (conn) => {
      if (conn.index === 0 && fault.onConnection !== undefined) { await fault.onConnection(conn); return }
      for (let i = 0; i < 1000; i++) {
        const req = await conn.nextRequest(30_000)
        if (req === null) return
        if (conn.index === 0 && i === 0 && fault.onRequest !== undefined) await fault.onRequest(req, conn)
        else await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
        if (conn.isClosed) return
        if (!req.keepConn) { await conn.close(); return }
      }
    }
  }
}

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
