// Clients that abandon their uploads just after the body passed spoolMemoryLimit, while the
// gateway's first write to the temp file is still in flight: the server keeps serving, and no
// temp file is left. Before the spool file kept an 'error' listener for its whole life, the
// write that failed after the file was destroyed was an uncaught exception: any client could
// end the process this way (with a bodyLimit raised above spoolMemoryLimit, as for uploads).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { request } from '../helpers/http'
import { listenSpoolingEcho, rawConnect, sleep } from './support'

t.test('200 uploads abandoned right after passing spoolMemoryLimit', async (t) => {
  const { port, spoolDirectory, backend } = await listenSpoolingEcho(t)

  const uncaught: Error[] = []
  const onUncaught = (err: Error): void => { uncaught.push(err) }
  process.prependListener('uncaughtException', onUncaught)
  t.teardown(() => process.removeListener('uncaughtException', onUncaught))

  const head = `POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${1024 * 1024}\r\n\r\n`
  for (let i = 0; i < 200; i++) {
    const conn = await rawConnect(t, port)
    await conn.write(head + 'a'.repeat(8192))
    // leave at once or a few ms later: the abort meets the file opening, writing or written
    await sleep(i % 5)
    conn.destroy()
  }
  const after = await request(`http://127.0.0.1:${port}/app`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'small' })
  t.equal(after.status, 200, 'the server still serves')
  t.equal(after.headers['x-stdin-length'], '5')
  t.same(uncaught.map((err) => err.message), [], 'no uncaught exception')
  t.equal(backend.requests.length, 1, 'only the complete request reached the backend')
  // removal runs in the background, after each file is closed: wait for it, bounded
  const deadline = Date.now() + 10000
  while (readdirSync(spoolDirectory).length > 0 && Date.now() < deadline) await sleep(20)
  t.same(readdirSync(spoolDirectory), [], 'no temp file left')
})
