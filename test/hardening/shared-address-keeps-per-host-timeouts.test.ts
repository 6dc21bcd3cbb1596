// Two host entries that name the same backend address with different timeouts share one
// connection pool, but each entry's readTimeout holds for its own requests, whichever entry
// was used first (the pool used to take the settings of the first one for both).
import t from 'tap'
import { startFaultServer } from '../helpers/fault-server'
import { request } from '../helpers/http'
import { listenWithPlugin } from './support'

t.test('per-host readTimeout on a shared address, in either order', async (t) => {
  // answers after 800 ms of silence
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      await conn.stall(800)
      await conn.respond('Content-Type: text/plain\r\n\r\nlate\n', req.requestId)
    }
  })
  for (const order of [['short', 'long'], ['long', 'short']]) {
    const { base } = await listenWithPlugin(t, {
      documentRoot: process.cwd(),
      server: {
        '/short/': [{ ...backend.options, checkLocal: false, readTimeout: 300 }],
        '/long/': [{ ...backend.options, checkLocal: false, readTimeout: 5000 }]
      }
    })
    for (const which of order) {
      const res = await request(`${base}/${which}/x`, { timeoutMs: 10_000 })
      if (which === 'short') t.equal(res.status, 504, `${order.join(' then ')}: /short/ times out after 300 ms`)
      else t.equal(res.status, 200, `${order.join(' then ')}: /long/ waits for the answer`)
    }
  }
})
