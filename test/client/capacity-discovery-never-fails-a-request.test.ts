// A discovered limit (maxConcurrency 'auto' on a kept-connection backend that does not say its
// capacity) is our guess, not the user's setting: a request may wait for it, but at most
// DISCOVERED_LIMIT_WAIT, and it is never refused for it (no 503 for a full or slow queue).
import t from 'tap'
import { startFaultServer } from '../helpers/fault-server'
import { makeClient, readWhole, responder } from '../helpers/backend-client'
import { DISCOVERED_LIMIT_WAIT } from '../../plugin/client/concurrency-limit'

/** A backend that holds every answer until release(): it never shows more than one at once. */
async function heldBackend (t: Parameters<typeof startFaultServer>[0]): Promise<{ server: Awaited<ReturnType<typeof startFaultServer>>, release: () => void }> {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const server = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      await gate
      await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
    }
  })
  return { server, release }
}

t.test('requests beyond the discovered limit reach the backend after the wait, and all are answered', async (t) => {
  const { server, release } = await heldBackend(t)
  const client = makeClient(t, server.address, { keepAlive: true, maxConcurrency: 'auto' })
  t.equal(client.stats().limit, 2, 'nothing seen yet: twice the one request every backend takes')
  const started = Date.now()
  const answers = Array.from({ length: 5 }, async () => await readWhole(await client.request(responder('/x.php'))))
  await server.waitForRequests(2)
  t.equal(client.stats().queued, 3, 'three wait for the limit')
  await server.waitForRequests(5, 10_000 + DISCOVERED_LIMIT_WAIT)
  t.ok(Date.now() - started >= DISCOVERED_LIMIT_WAIT - 50, 'they went after the wait, not before')
  t.equal(client.stats().queued, 0)
  release()
  for (const answer of await Promise.all(answers)) t.equal(answer.body, 'ok\n')
})

t.test('a full queue under a discovered limit sends the request on instead of refusing it', async (t) => {
  const { server, release } = await heldBackend(t)
  const client = makeClient(t, server.address, { keepAlive: true, maxConcurrency: 'auto', queueLimit: 0 })
  const answers = Array.from({ length: 4 }, async () => await readWhole(await client.request(responder('/x.php'))))
  await server.waitForRequests(4, DISCOVERED_LIMIT_WAIT - 100)
  t.pass('all four reached the backend before the wait was over')
  release()
  for (const answer of await Promise.all(answers)) t.equal(answer.body, 'ok\n')
})

t.test('a cap the user set still refuses when its queue is full', async (t) => {
  const { server, release } = await heldBackend(t)
  const client = makeClient(t, server.address, { keepAlive: true, maxConcurrency: 1, queueLimit: 0 })
  const first = client.request(responder('/x.php'))
  await t.rejects(client.request(responder('/x.php')), { code: 'FST_FASTCGI_QUEUE_FULL' })
  release()
  t.equal((await readWhole(await first)).body, 'ok\n')
})
