// A backend that sends the headers and part of the body, then stalls: the client connection
// is aborted (by the read timeout), so the truncated response never looks complete; the
// next request works.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'
import { request } from '../helpers/http'

t.test('stall mid-body -> the client connection is aborted, not ended', async (t) => {
  const backend = await startFaultServer(t, firstThenOk(faults.stallMidBody(100)))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, readTimeout: 300 }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`

  const res = await request(url, { allowAbort: true, timeoutMs: 30_000 })
  t.equal(res.status, 200, 'the head had gone out')
  t.equal(res.aborted, true, 'the response broke off instead of ending')
  t.equal(res.body.length, 100, 'with the bytes the backend sent')
  t.equal(res.body.toString(), 'b'.repeat(100))

  const after = await request(url, { timeoutMs: 30_000 })
  t.equal(after.status, 200, 'a normal request afterwards works')
  t.equal(after.body.toString(), 'ok\n')
  t.equal(after.aborted, false)
})
