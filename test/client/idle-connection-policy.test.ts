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

// What several gateway processes on one pool run into: the discovered limit falls while a
// request already holds a slot, and that request's fresh connection waits in the accept queue
// for a worker. A connection of ours that comes back meanwhile must not stay idle: no request
// may take it under the limit, and its worker is the one the fresh connection waits for.
// (Connections 1 and 2 answer only when released: they stand for connections in the queue.)
t.test('a connection that no request may take under the fallen limit is closed, not kept idle', async (t) => {
  const gates = new Map<number, () => void>()
  const opened = new Map<number, Promise<void>>()
  for (const index of [1, 2]) opened.set(index, new Promise((resolve) => gates.set(index, resolve)))
  const server = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      await opened.get(conn.index)
      await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
    }
  })
  const client = makeClient(t, server.address, { maxConcurrency: 'auto', keepAliveLinger: 60_000 })
  const ask = async (): Promise<string> => (await readWhole(await client.request(responder('/x.php')))).body
  const first = ask()
  const waiting = ask()
  t.equal(await first, 'ok\n', 'the first connection answers at once')
  t.equal(client.stats().limit, 2, 'slow start: twice the one worker seen')
  // long enough that a request answered at once on the kept connection overtakes the waiting one
  await new Promise((resolve) => setTimeout(resolve, 200))
  const third = ask()
  const fourth = ask()
  t.equal(await third, 'ok\n')
  t.ok(await until(() => client.stats().limit === 1), 'overtaken while holding one worker: the limit falls to it')
  await server.waitForConnections(3)
  t.equal(client.stats().inFlight, 2, 'the fourth request took its slot before the limit fell, and waits on a fresh connection')
  gates.get(1)?.()
  t.equal(await waiting, 'ok\n', 'the second connection gets a worker')
  t.ok(await until(() => client.stats().idle === 0 && server.openConnections === 1, 5000), `it is closed when it comes back, not kept idle (idle ${client.stats().idle}, open at the backend ${server.openConnections})`)
  gates.get(2)?.()
  t.equal(await fourth, 'ok\n')
})

// The other side of the rule above: a fresh connection that waits right after we closed
// connections of our own (their turn was over) may be waiting for one of those workers, slow to
// come back to accept() on a busy machine. That says nothing about other clients, and must not
// lower the limit to the workers we hold. (Connection 2 answers only when released.)
t.test('waiting for a worker we just gave back does not lower the limit', async (t) => {
  let release = (): void => {}
  const slow = new Promise<void>((resolve) => { release = resolve })
  const server = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      if (conn.index === 2) await slow
      await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
    }
  })
  const turn = 100
  const client = makeClient(t, server.address, { maxConcurrency: 'auto', keepAliveLinger: 60_000, keepAliveTurn: turn })
  const ask = async (): Promise<string> => (await readWhole(await client.request(responder('/x.php')))).body
  t.same(await Promise.all([ask(), ask()]), ['ok\n', 'ok\n'])
  t.equal(client.stats().capacity, 2, 'two workers seen at once')
  await new Promise((resolve) => setTimeout(resolve, turn + 50))
  t.same(await Promise.all([ask(), ask()]), ['ok\n', 'ok\n'])
  t.ok(await until(() => client.stats().open === 0), 'both closed when they came back: their turn was over')
  const waiting = ask()
  t.equal(await ask(), 'ok\n', 'a fresh connection answered at once')
  await server.waitForConnections(4)
  // long enough that a request answered at once on the kept connection overtakes the waiting one
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await ask(), 'ok\n', 'a request sent later on the kept connection finishes first')
  t.equal(client.stats().limit, 2, 'held at the two workers seen, not at the one held now')
  release()
  t.equal(await waiting, 'ok\n')
})
