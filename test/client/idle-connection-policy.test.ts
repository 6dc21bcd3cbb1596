// The idle-connection policy of BackendClient (see docs/performance.md, "Kept connections and a
// shared backend"): idle connections close keepAliveLinger after their last request; with a
// known capacity at most capacity - 1 of them stay idle; under continuous load they are reused.
import t from 'tap'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'

t.test('an idle connection closes after the linger, long before keepAliveTimeout', async (t) => {
  const server = await startFaultServer(t, faults.ok())
  const client = makeClient(t, server.address, { keepAliveTimeout: 60_000, keepAliveLinger: 50 })
  await readWhole(await client.request(responder('/x.php')))
  t.equal(client.stats().idle, 1, 'kept after the request')
  t.ok(await until(() => client.stats().open === 0 && server.openConnections === 0, 10_000), 'closed after the linger (bounded wait of 10 s, keepAliveTimeout is 60 s)')
})

t.test('continuous requests reuse one connection', async (t) => {
  const server = await startFaultServer(t, faults.ok())
  const client = makeClient(t, server.address, { keepAliveLinger: 1000 })
  for (let i = 0; i < 50; i++) t.equal((await readWhole(await client.request(responder('/x.php')))).body, 'ok\n')
  t.equal(server.connectionCount, 1, '50 sequential requests on one connection')
})

/** A backend that sends each head at once and, for the first `gated` requests, the rest only after release(). */
async function gatedBackend (t: Parameters<typeof startFaultServer>[0], gated: number): Promise<{ server: Awaited<ReturnType<typeof startFaultServer>>, release: () => void }> {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let served = 0
  const server = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      await conn.stdout('Content-Type: text/plain\r\n\r\n', req.requestId)
      if (served++ < gated) await gate
      await conn.respond('ok\n', req.requestId)
    }
  })
  return { server, release }
}

// (heads first: a connection still waiting for its first byte is the backend looking short,
// and then returning connections are closed, which is another rule)
t.test('with a known capacity, at most capacity - 1 connections stay idle after a burst', async (t) => {
  const { server, release } = await gatedBackend(t, 3)
  const client = makeClient(t, server.address, { maxConcurrency: 3, keepAliveLinger: 60_000 })
  const heads = await Promise.all(Array.from({ length: 3 }, async () => await client.request(responder('/x.php'))))
  t.equal(client.stats().open, 3, 'three connections in use')
  release()
  for (const head of heads) t.equal((await readWhole(head)).body, 'ok\n')
  t.ok(await until(() => client.stats().inFlight === 0))
  t.equal(client.stats().idle, 2, 'two stay idle, one is closed: a worker is free for others at once')
  t.ok(await until(() => server.openConnections === 2), 'the backend sees two connections')
})

t.test('with requests queued for a slot, returning connections are kept for them', async (t) => {
  const { server, release } = await gatedBackend(t, 2)
  const client = makeClient(t, server.address, { maxConcurrency: 2, keepAliveLinger: 60_000 })
  const first = await Promise.all(Array.from({ length: 2 }, async () => await client.request(responder('/x.php'))))
  const queued = Array.from({ length: 4 }, async () => await readWhole(await client.request(responder('/x.php'))))
  t.ok(await until(() => client.stats().queued === 4))
  release()
  for (const head of first) t.equal((await readWhole(head)).body, 'ok\n')
  for (const res of await Promise.all(queued)) t.equal(res.body, 'ok\n')
  t.equal(server.connectionCount, 2, 'the queued requests went on the two connections')
})
