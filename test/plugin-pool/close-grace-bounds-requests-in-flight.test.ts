// app.close() lets requests in flight finish for closeGrace, not for as long as a backend (or a
// client that stops reading a streamed response) cares to take: Fastify's server waits for
// every request in flight before any onClose hook runs, so the bound must start at preClose.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { request, requestStream } from '../helpers/http'
import { RecordType, encodeRecord } from '../../plugin/protocol'
import { until } from '../helpers/backend-client'

t.test('a request in flight on a stalled backend does not hold app.close() past closeGrace', async (t) => {
  const backend = await startFaultServer(t, { ...faults.stallBeforeHeaders(), port: 0 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), closeGrace: 200, server: { '/app': [{ ...backend.options, checkLocal: false, readTimeout: 10_000 }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`
  const pending = request(url, { allowAbort: true, timeoutMs: 15_000 })
  await backend.waitForRequests(1)
  const started = Date.now()
  await app.close()
  const took = Date.now() - started
  t.ok(took < 3000, `app.close() took ${took} ms (closeGrace 200 ms, readTimeout 10 s)`)
  const res = await pending
  t.ok(res.status >= 500 || res.aborted, `the request in flight was ended (${res.status})`)
  t.ok(await until(() => backend.openConnections === 0, 1000), 'no backend connection left')
})

t.test('a client that stops reading a streamed response does not hold app.close() past closeGrace', async (t) => {
  // a streamed body the client never reads: the socket is paused, and no read timeout applies
  const backend = await startFaultServer(t, {
    port: 0,
    onRequest: async (req, conn) => {
      await conn.stdout('Content-Type: text/plain\r\n\r\n', req.requestId)
      const chunk = encodeRecord(RecordType.STDOUT, req.requestId, Buffer.alloc(60_000, 'b'))
      for (let i = 0; i < 200 && !conn.isClosed; i++) await conn.write(chunk)
      await conn.respond('', req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), closeGrace: 200, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`
  const { req, res } = await requestStream(url, { timeoutMs: 15_000 })
  res.pause()
  res.on('error', () => {})
  t.teardown(() => req.destroy())
  // let the buffers on the way fill up
  await new Promise((resolve) => setTimeout(resolve, 300))
  const started = Date.now()
  const closed = app.close().then(() => Date.now() - started)
  const took = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('still closing after 5000 ms'), 5000))])
  // let the failing case finish too
  req.destroy()
  await closed
  t.ok(typeof took === 'number' && took < 3000, `app.close() took ${took} (closeGrace 200 ms)`)
  t.ok(await until(() => backend.openConnections === 0, 1000), 'no backend connection left')
})
