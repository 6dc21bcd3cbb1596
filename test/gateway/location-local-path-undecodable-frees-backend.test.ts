// A local redirect (Location without Status) whose path the gateway cannot decode (`/%zz`) is
// not one of its routes: the client gets the backend's redirect, as for any Location the
// gateway does not serve itself. Before, the path's BadRequestPathError left the backend's
// streamed body unread: its request never ended, and the backend's connection and its pool
// load stayed taken for good.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'
import { request } from '../helpers/http'

// past what the gateway gathers before it streams, and past the body's buffer
const BODY = 1024 * 1024

t.test('Location: /%zz without Status goes to the client and frees the backend', async (t) => {
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      if (req.param('QUERY_STRING') === 'ok') { await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId); return }
      await conn.respond(Buffer.concat([Buffer.from('Location: /%zz\r\nContent-Type: text/plain\r\n\r\n'), Buffer.alloc(BODY, 0x61)]), req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/r': [{ ...backend.options, checkLocal: false, readTimeout: 500 }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const res = await request(`${base}/r`, { timeoutMs: 10_000 })
  t.equal(res.status, 302, 'the client gets the redirect')
  t.equal(res.headers.location, '/%zz')
  t.equal(res.body.length, BODY, 'with the backend\'s body')

  // well past the backend's read timeout
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(backend.openConnections, 0, 'the backend connection is not left open')
  t.same(app.fastcgi.backends().map((b) => b.load), [0], 'the backend\'s load is back to 0')
  const next = await request(`${base}/r?ok`, { timeoutMs: 10_000 })
  t.equal(next.status, 200)
})
