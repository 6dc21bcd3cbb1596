// Clients that send a whole body larger than spoolMemoryLimit and leave at once, while the
// gateway is still closing the body's temp file. Their reply's 'close' came before the body was
// ready, and the listener that removes the file (and cancels the backend request) was added
// only after: every such upload left its temp file for good, so any client could fill the
// spool directory's disk (up to bodyLimit a request), and the backend ran the request for a
// client that was gone.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { request } from '../helpers/http'
import { listenSpoolingEcho, rawConnect, sleep } from './support'

t.test('50 uploads sent whole, then the client leaves: no temp file stays', async (t) => {
  const { port, spoolDirectory, backend } = await listenSpoolingEcho(t)

  const size = 512 * 1024
  for (let i = 0; i < 50; i++) {
    const conn = await rawConnect(t, port)
    conn.socket.write(`POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n${'a'.repeat(size)}`)
    conn.destroy()
    await sleep(i % 5)
  }
  const after = await request(`http://127.0.0.1:${port}/app`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'small' })
  t.equal(after.status, 200, 'the server still serves')
  // removal runs in the background, after each file is closed: wait for it, bounded
  const deadline = Date.now() + 10000
  while (readdirSync(spoolDirectory).length > 0 && Date.now() < deadline) await sleep(20)
  t.same(readdirSync(spoolDirectory), [], 'no temp file left')
  t.ok(backend.requests.length <= 1 + 5, `the backend was asked for (almost) none of the abandoned uploads (${backend.requests.length - 1} of 50)`)
})
