// Cancellation: a request cancelled before it starts never starts (no connection taken,
// nothing written, the slot and the idle connection given back); cancelled while queued it
// leaves the queue; cancelled mid-request the backend connection is dropped.
// Timers: the exchange's one timer is the backend's silence while a response is owed (not
// a slow client's upload), or the backend refusing request data.
import t from 'tap'
import { Readable } from 'node:stream'
import { Cancellation } from '../../plugin/client/cancellation'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'

t.test('cancelled before it starts, no idle connection: no connection, nothing sent', async (t) => {
  const server = await startFaultServer(t, faults.ok())
  const client = makeClient(t, server.address)
  const cancellation = new Cancellation()
  cancellation.cancel()
  await t.rejects(client.request(responder('/x.php', [], { cancellation })), { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.same({ ...client.stats() }, { inFlight: 0, queued: 0, idle: 0, open: 0, retries: 0, connections: 0, dirtyClosed: 0, limit: Infinity, capacity: Infinity }, 'nothing held')
  t.equal(server.connectionCount, 0, 'no connection opened')
  t.equal((await readWhole(await client.request(responder('/x.php')))).body, 'ok\n', 'the client still serves')
})

t.test('cancelled before it starts, an idle connection waiting: it stays idle, untouched', async (t) => {
  const server = await startFaultServer(t, faults.ok())
  const client = makeClient(t, server.address)
  await readWhole(await client.request(responder('/x.php')))
  t.ok(await until(() => client.stats().idle === 1))
  const cancellation = new Cancellation()
  cancellation.cancel()
  await t.rejects(client.request(responder('/x.php', [], { cancellation })), { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.equal(client.stats().idle, 1, 'the kept connection is still idle')
  t.equal(client.stats().inFlight, 0, 'the slot was given back')
  await readWhole(await client.request(responder('/x.php')))
  t.equal(server.connectionCount, 1, 'and serves the next request')
  t.equal(server.requests.length, 2, 'the cancelled request never reached the backend')
})

t.test('cancelled while queued: leaves the queue and never starts', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const server = await startFaultServer(t, { onRequest: async (req, conn) => { await gate; await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId) } })
  const client = makeClient(t, server.address, { maxConcurrency: 1 })
  const first = client.request(responder('/x.php'))
  await server.waitForRequests(1)
  const cancellation = new Cancellation()
  const queued = client.request(responder('/x.php', [], { cancellation }))
  t.ok(await until(() => client.stats().queued === 1))
  cancellation.cancel()
  await t.rejects(queued, { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.equal(client.stats().queued, 0)
  release()
  t.equal((await readWhole(await first)).body, 'ok\n')
  t.ok(await until(() => client.stats().inFlight === 0))
  t.equal(server.requests.length, 1, 'only the first request reached the backend')
})

t.test('cancelled mid-request: the backend connection is dropped, the slot given back', async (t) => {
  const server = await startFaultServer(t, faults.stallBeforeHeaders())
  const client = makeClient(t, server.address)
  const cancellation = new Cancellation()
  const pending = client.request(responder('/x.php', [], { cancellation }))
  await server.waitForRequests(1)
  cancellation.cancel()
  await t.rejects(pending, { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.ok(await until(() => server.openConnections === 0), 'the backend connection was closed')
  t.same({ inFlight: client.stats().inFlight, open: client.stats().open, idle: client.stats().idle }, { inFlight: 0, open: 0, idle: 0 })
})

t.test('a slow upload is not backend silence: the read timeout waits for the body', async (t) => {
  const server = await startFaultServer(t, faults.echoStdin())
  const client = makeClient(t, server.address, { readTimeout: 300 })
  const parts = Array.from({ length: 8 }, (_, i) => Buffer.from(`part ${i};`))
  let i = 0
  // 8 parts 100 ms apart: the upload takes longer than the read timeout twice over
  const body = new Readable({ read () { const part = parts[i++]; setTimeout(() => { this.push(part ?? null) }, 100) } })
  const res = await readWhole(await client.request(responder('/x.php', [['CONTENT_LENGTH', String(Buffer.concat(parts).length)]], { body })))
  t.equal(res.body, Buffer.concat(parts).toString())
})

t.test('a backend that takes no request data: write timeout', async (t) => {
  const server = await startFaultServer(t, {
    // (the fault server resumes the socket after the script starts: pause it on the next turn)
    onConnection: async (conn) => { await new Promise((resolve) => setImmediate(resolve)); conn.socket.pause(); await conn.stall(20_000) }
  })
  const client = makeClient(t, server.address, { writeTimeout: 300, readTimeout: 60_000 })
  const big = Buffer.alloc(1024 * 1024, 'w')
  let sent = 0
  const body = new Readable({ read () { this.push(sent++ < 64 ? big : null) } })
  await t.rejects(client.request(responder('/x.php', [['CONTENT_LENGTH', String(64 * big.length)]], { body })), { code: 'FST_FASTCGI_WRITE_TIMEOUT' })
  t.ok(sent < 64, `the body stopped flowing at the backend's pace (${sent} of 64 MiB taken)`)
  t.ok(await until(() => client.stats().open === 0 && client.stats().inFlight === 0), 'connection dropped, slot back')
})

t.test('a backend silent before its head: read timeout; a body source that closes early: aborted', async (t) => {
  const server = await startFaultServer(t, { ...faults.stallBeforeHeaders(), deliverOn: 'params' })
  const client = makeClient(t, server.address, { readTimeout: 300 })
  await t.rejects(client.request(responder('/x.php')), { code: 'FST_FASTCGI_READ_TIMEOUT' })
  const body = new Readable({ read () {} })
  body.push('some')
  const pending = client.request(responder('/x.php', [['CONTENT_LENGTH', '100']], { body }))
  await server.waitForRequests(2)
  body.destroy()
  await t.rejects(pending, { code: 'FST_FASTCGI_CLIENT_ABORTED' }, "'close' without 'end' aborts the request")
  t.ok(await until(() => client.stats().open === 0 && client.stats().inFlight === 0), 'connection dropped, slot back')
})
