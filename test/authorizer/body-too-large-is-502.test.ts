// The authorizer's answer is read whole before anything is decided, up to 1 MiB; a longer body
// denies with 502 (and drops the backend connection) instead of buffering without bound.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'

t.test('an authorizer body over the limit: 502, never approved', async (t) => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x61)
  const gate = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      // an approval (no Status) with an endless-looking body
      await conn.stdout('Variable-REMOTE_USER: x\r\n\r\n', req.requestId)
      for (let sent = 0; sent < big.length && !conn.isClosed; sent += 60_000) await conn.stdout(big.subarray(sent, sent + 60_000), req.requestId)
      await conn.respond('', req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }] } })
  let handled = 0
  app.get('/app/x', async () => { handled++; return 'let through' })
  const res = await app.inject({ url: '/app/x' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_FASTCGI_AUTHORIZER_BODY_TOO_LARGE')
  t.equal(handled, 0)
})
