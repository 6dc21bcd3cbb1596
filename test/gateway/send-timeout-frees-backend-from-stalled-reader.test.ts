// A client that asks for a large streamed response and stops reading holds the backend's
// worker while the gateway waits for it: sendTimeout (nginx's send_timeout) bounds that wait.
// After it the response is cut, the backend connection closed and its load released, the
// timeout is counted and logged, and the next request is served. With sendTimeout 0 the wait
// is as long as the client keeps its connection (the behaviour before the option). These tests
// turn response spooling off (responseSpoolLimit 0), under which the backend waits for the
// reader; with spooling the backend is freed at once, and sendTimeout then bounds how long the
// stalled client holds the response's temp file (the last test).
import t from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { captureLogs } from '../helpers/logs'
import { request } from '../helpers/http'
import { backendOf, statusOf } from '../helpers/observability'
import type { TeardownHost } from '../helpers/tmp'
import { loadsBackToZero, rawConnect, sleep } from '../hardening/support'

// more than the loopback socket buffers on both sides can hold, so the gateway's reader stalls
const BODY = Buffer.alloc(48 * 1024 * 1024, 0x7a)

async function gatewayWith (t: TeardownHost, sendTimeout: number, responseSpoolLimit = 0): Promise<{ app: FastifyInstance, port: number, lines: Array<Record<string, unknown>> }> {
  const backend = await startFaultServer(t, faults.rawHeaders('Content-Type: application/octet-stream\r\n\r\n', BODY))
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), responseSpoolLimit, server: { '/big': { big: { ...backend.options, checkLocal: false, sendTimeout } } } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, port: (app.server.address() as { port: number }).port, lines: logs.lines }
}

t.test('a client that stops reading is cut off after sendTimeout, and the backend freed', async (t) => {
  const { app, port, lines } = await gatewayWith(t, 300)
  const conn = await rawConnect(t, port)
  conn.socket.pause()
  await conn.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n')
  // the response starts, the buffers fill, the gateway pauses the backend: load 1 meanwhile
  const deadline = Date.now() + 10000
  while (app.fastcgi.backends().every((b) => b.load === 0) && Date.now() < deadline) await sleep(10)
  t.same(await loadsBackToZero(app, 10000), [0], 'the backend is released')
  // reading again, the client finds its response cut: what the buffers held, then the close
  conn.socket.resume()
  while (!conn.closed() && Date.now() < deadline + 10000) await sleep(20)
  t.ok(conn.closed(), 'the stalled client\'s connection is closed')
  t.ok(conn.received().length < BODY.length, 'before the whole body')
  t.ok(lines.some((l) => JSON.stringify(l).includes('FST_FASTCGI_SEND_TIMEOUT')), 'the log names the send timeout')
  t.equal(backendOf(statusOf(app), '/big', 'big').timeouts.send, 1, 'counted as a send timeout')
  const next = await request(`http://127.0.0.1:${port}/big`)
  t.equal(next.status, 200, 'the next client is served')
  t.equal(next.body.length, BODY.length, 'whole')
})

t.test('sendTimeout 0: the stalled client keeps the backend (as before the option)', async (t) => {
  const { app, port } = await gatewayWith(t, 0)
  const conn = await rawConnect(t, port)
  conn.socket.pause()
  await conn.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n')
  const deadline = Date.now() + 10000
  while (app.fastcgi.backends().every((b) => b.load === 0) && Date.now() < deadline) await sleep(10)
  await sleep(1000)
  t.same(app.fastcgi.backends().map((b) => b.load), [1], 'still held a second later')
  conn.destroy()
  t.same(await loadsBackToZero(app, 10000), [0], 'released when the client goes')
})

t.test('spooled for a stalled client: the backend is freed at once, and the client cut after sendTimeout', async (t) => {
  const { app, port, lines } = await gatewayWith(t, 300, 1024 * 1024 * 1024)
  const conn = await rawConnect(t, port)
  conn.socket.pause()
  await conn.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n')
  t.same(await loadsBackToZero(app, 10000), [0], 'the backend is released')
  // still not reading: the rest of the body waits in the temp file until sendTimeout
  const deadline = Date.now() + 10000
  while (!lines.some((l) => JSON.stringify(l).includes('FST_FASTCGI_SEND_TIMEOUT')) && Date.now() < deadline) await sleep(20)
  t.ok(lines.some((l) => JSON.stringify(l).includes('FST_FASTCGI_SEND_TIMEOUT')), 'the log names the send timeout')
  conn.socket.resume()
  while (!conn.closed() && Date.now() < deadline + 10000) await sleep(20)
  t.ok(conn.closed(), 'the stalled client\'s connection is closed')
  t.ok(conn.received().length < BODY.length, 'before the whole body')
  t.equal(backendOf(statusOf(app), '/big', 'big').timeouts.send, 1, 'counted as a send timeout')
  const next = await request(`http://127.0.0.1:${port}/big`)
  t.equal(next.status, 200, 'the next client is served')
  t.equal(next.body.length, BODY.length, 'whole')
})
