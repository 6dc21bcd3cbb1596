// A client that went away before its request reached the gateway's handler (an application
// onRequest hook was still running) and whose backend then answers with a local redirect: the
// hop must not serve a large body into nobody. Before the fix, the hop's backend request was
// stuck for good: its body paused behind a reply no one reads, the read timeout re-armed for
// ever (a paused body is not the backend's fault), its connection and pool slot never freed.
import http from 'node:http'
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'
import { request } from '../helpers/http'

const BIG = 4 * 1024 * 1024

t.test('client gone before a local redirect is followed: the hop\'s backend is freed', async (t) => {
  const redirector = await startFaultServer(t, {
    onRequest: async (req, conn) => { await conn.respond('Location: /big/x\r\n\r\n', req.requestId) }
  })
  const big = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const body = req.param('QUERY_STRING') === 'small' ? Buffer.from('small\n') : Buffer.alloc(BIG, 0x61)
      await conn.respond(Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\n\r\n'), body]), req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  let hookEntered: () => void = () => {}
  const entered = new Promise<void>((resolve) => { hookEntered = resolve })
  // an application hook that takes its time (an auth lookup, a rate limiter)
  app.addHook('onRequest', async (request) => {
    if (request.url !== '/go') return
    hookEntered()
    await new Promise((resolve) => setTimeout(resolve, 300))
  })
  await app.register(fastcgi, {
    documentRoot: process.cwd(),
    server: {
      '/go': [{ ...redirector.options, checkLocal: false }],
      '/big': [{ ...big.options, checkLocal: false, readTimeout: 500 }]
    }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const req = http.request(`${base}/go`, { agent: false })
  req.on('error', () => {})
  req.end()
  await entered
  req.destroy()

  await redirector.waitForRequests(1)
  // well past the hop backend's read timeout: whatever the hop started must be over by then
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(big.openConnections, 0, 'no connection to the hop\'s backend is left open')
  t.same(app.fastcgi.backends().map((b) => b.load), [0, 0], 'every backend\'s load is back to 0')

  const res = await request(`${base}/big/x?small`, { timeoutMs: 10_000 })
  t.equal(res.status, 200, 'the gateway still serves')
  t.equal(res.body.toString(), 'small\n')
})
