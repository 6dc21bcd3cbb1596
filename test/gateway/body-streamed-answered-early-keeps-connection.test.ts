// requestBuffering: false, and a backend that answers before it has read the whole body (an
// early error page, a C app that never reads STDIN): once the answer is out, the rest of the
// client's upload is read and dropped, so its connection goes on to its next request. Before,
// the rest was left unread and the connection hung: the client could neither finish its upload
// nor send another request, and app.close() waited for it.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { parseResponses, rawConnect } from '../hardening/support'

t.test('a 900 KiB streamed upload answered at its params, then a GET on the same connection', async (t) => {
  const backend = await startFaultServer(t, { ...faults.ok(), deliverOn: 'params' })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, requestBuffering: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  const conn = await rawConnect(t, port)
  const size = 900 * 1024
  await conn.write(`POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n`)
  const piece = Buffer.alloc(64 * 1024, 0x61)
  for (let sent = 0; sent < size; sent += piece.length) await conn.write(piece.subarray(0, Math.min(piece.length, size - sent)))
  await conn.write('GET /app HTTP/1.1\r\nHost: x\r\n\r\n')
  const text = await conn.waitFor((received) => parseResponses(received).length >= 2, 10000)
  conn.destroy()
  t.same(parseResponses(text).map((r) => r.status), [200, 200], 'both requests answered on the one connection')
  t.equal(backend.requests.length, 2)
})
