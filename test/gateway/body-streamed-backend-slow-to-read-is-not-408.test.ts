// A streamed body (requestBuffering: false) whose backend is slow to take it is not the
// client's silence: while the gateway waits for the backend socket to drain, the client is held
// back by our own backpressure, and clientBodyTimeout must not run. With writeTimeout 0 (no
// deadline on the backend taking data) the exchange used to arm its 'body' deadline during the
// drain wait, and a client that was sending as fast as it was let got a 408 blaming it for the
// backend's pause.
import t from 'tap'
import { startFaultServer } from '../helpers/fault-server'
import { listenWithPlugin, loadsBackToZero, parseResponse, rawConnect, sleep } from '../hardening/support'

const TIMEOUT = 400
// more than a unix socket's buffers hold: the gateway waits for 'drain' on the backend socket
const LENGTH = 4 * 1024 * 1024

t.test('writeTimeout 0: a backend that pauses its reading for longer than clientBodyTimeout gets the whole body, no 408', async (t) => {
  let paused = false
  const backend = await startFaultServer(t, {
    onConnection: async (conn) => {
      // after the fault server's own resume() of the new socket
      await new Promise((resolve) => setImmediate(resolve))
      conn.socket.pause()
      paused = true
      await sleep(5 * TIMEOUT)
      conn.socket.resume()
      const req = await conn.nextRequest(30_000)
      if (req === null) return
      await conn.respond(`Content-Type: text/plain\r\nX-Stdin-Length: ${req.stdin.length}\r\n\r\nok\n`, req.requestId)
      await conn.close()
    }
  })
  const { app, port } = await listenWithPlugin(t, {
    documentRoot: process.cwd(),
    clientBodyTimeout: TIMEOUT,
    server: { '/app': [{ ...backend.options, checkLocal: false, requestBuffering: false, keepAlive: false, writeTimeout: 0, readTimeout: 60_000 }] }
  }, { bodyLimit: 2 * LENGTH })
  const conn = await rawConnect(t, port)
  await conn.write(`POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${LENGTH}\r\n\r\n`)
  // all of it at once: the client is only ever held back by the gateway
  conn.socket.write(Buffer.alloc(LENGTH, 0x61))
  const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 5 * TIMEOUT + 20_000)
  const res = parseResponse(text)
  t.ok(paused, 'the backend paused its reading')
  t.equal(res?.status, 200, 'answered by the backend, not 408')
  t.equal(res?.headers['x-stdin-length'], String(LENGTH), 'the backend got the whole body')
  t.same(await loadsBackToZero(app), [0], 'the pool load is back to 0')
  conn.destroy()
})
