// Through the plugin: a backend that sends a late STDOUT with a Set-Cookie for the previous
// request on a kept connection, just as the next client's request arrives on it. The next
// client gets its own answer without that cookie (the request is sent again on a fresh
// connection), and the dirty connection is closed.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { ProtocolStatus, RecordType, encodeEndRequest, encodeRecord, encodeStream } from '../../plugin/protocol'
import { startFaultServer } from '../helpers/fault-server'
import type { FaultConnection } from '../helpers/fault-server'

function answer (text: string, requestId: number, headers = 'Content-Type: text/plain'): Buffer {
  return Buffer.concat([
    encodeStream(RecordType.STDOUT, requestId, Buffer.from(`${headers}\r\n\r\n${text}`)),
    encodeRecord(RecordType.STDOUT, requestId),
    encodeEndRequest(requestId, 0, ProtocolStatus.REQUEST_COMPLETE)
  ])
}

t.test('a late Set-Cookie for the previous request never reaches the next client', async (t) => {
  let dirty: FaultConnection | undefined
  const backend = await startFaultServer(t, {
    onConnection: async (conn) => {
      for (let i = 0; i < 100; i++) {
        const req = await conn.nextRequest(10_000)
        if (req === null) return
        const who = new URLSearchParams(req.param('QUERY_STRING') ?? '').get('who') ?? '?'
        if (conn.index === 0 && i === 1) {
          // the first request's session cookie, late, in front of the second request's answer
          dirty = conn
          await conn.write(Buffer.concat([
            encodeRecord(RecordType.STDOUT, req.requestId - 1, Buffer.from('Set-Cookie: session=alice\r\n')),
            answer(`for ${who}`, req.requestId)
          ]))
        } else {
          await conn.write(answer(`for ${who}`, req.requestId, who === 'alice' ? 'Content-Type: text/plain\r\nSet-Cookie: session=alice' : 'Content-Type: text/plain'))
        }
        if (!req.keepConn) { await conn.close(); return }
      }
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { server: { '/app': [{ ...backend.options, checkLocal: false, docroot: '/srv/www', keepAlive: true }] } })

  const alice = await app.inject({ url: '/app?who=alice' })
  t.equal(alice.body, 'for alice')
  t.equal(alice.headers['set-cookie'], 'session=alice')

  const bob = await app.inject({ url: '/app?who=bob' })
  t.equal(bob.statusCode, 200)
  t.equal(bob.body, 'for bob', 'bob gets his own answer')
  t.equal(bob.headers['set-cookie'], undefined, "bob never gets alice's cookie")
  const deadline = Date.now() + 10_000
  while (dirty?.isClosed !== true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(dirty?.isClosed, 'the dirty connection was closed')
  t.equal(backend.connectionCount, 2, "bob's request went again on a fresh connection")

  const carol = await app.inject({ url: '/app?who=carol' })
  t.equal(carol.body, 'for carol')
  t.equal(carol.headers['set-cookie'], undefined)
  t.equal(backend.connectionCount, 2, 'the clean connection is reused')
})
