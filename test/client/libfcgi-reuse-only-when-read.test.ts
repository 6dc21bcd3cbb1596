// keepAlive 'auto' with libfcgi backends (they answer only a padded FCGI_GET_VALUES): a kept
// connection is used again only once its worker answers FCGI_GET_VALUES on it while it is idle
// (plugin/client/reading-check.ts). A single-threaded or prefork app does at once, so its
// connections are reused; the threaded FCGX_Accept_r app of lighttpd's documentation may not
// (its threads take an accept lock before they read a kept connection), and no request may
// ever be sent to a connection nobody reads.
import t from 'tap'
import { join } from 'node:path'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'
import { startFaultServer } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'
import { RecordType, encodeNameValuePairs, encodeRecord } from '../../plugin/protocol'
import { CGI_SCRIPT, buildCApp, hasFcgiwrap, hasLibfcgi, startCApp, startFcgiwrap } from '../helpers/libfcgi'

const noLibfcgi = !hasLibfcgi() && 'gcc or libfcgi-dev missing'

t.test('a single-threaded libfcgi app: its connection is reused', { skip: noLibfcgi }, async (t) => {
  const app = await startCApp(t, buildCApp('hello'))
  // a long linger: the answer must not be missed on a loaded machine (the linger bounds the wait)
  const client = makeClient(t, app.address, { keepAlive: 'auto', maxConcurrency: 'auto', keepAliveLinger: 5000 })
  const statuses = new Set<number>()
  for (let i = 0; i < 30; i++) statuses.add((await readWhole(await client.request(responder('/hello')))).status)
  t.same([...statuses], [200])
  const { connections } = client.stats()
  t.ok(connections <= 2, `30 requests on ${connections} connection(s)`)
})

t.test('fcgiwrap with 2 prefork children: two loops keep their connections', { skip: (!hasFcgiwrap() && 'fcgiwrap missing') || noLibfcgi }, async (t) => {
  const app = await startFcgiwrap(t, { children: 2 })
  const client = makeClient(t, app.address, { keepAlive: 'auto', maxConcurrency: 'auto', keepAliveLinger: 5000 })
  const bodies: string[] = []
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 15; i++) bodies.push((await readWhole(await client.request(responder(CGI_SCRIPT)))).body)
  }
  await Promise.all([loop(), loop()])
  t.equal(bodies.length, 30)
  t.ok(bodies.every((body) => body.includes('hello from cgi')), 'every request ran the script')
  const { connections } = client.stats()
  t.ok(connections < 15, `30 requests on ${connections} connections`)
})

t.test('the threaded libfcgi app: no request waits on a connection nobody reads', { skip: noLibfcgi }, async (t) => {
  const app = await startCApp(t, buildCApp('threaded'), { threads: 4 })
  // a stalled request would fail with this read timeout instead of answering
  const client = makeClient(t, app.address, { keepAlive: 'auto', maxConcurrency: 'auto', keepAliveTurn: undefined, readTimeout: 3000 })
  const failures: string[] = []
  let answered = 0
  const one = async (i: number): Promise<void> => {
    try {
      const response = await readWhole(await client.request(responder('/t', [['QUERY_STRING', `i=${i}`]])))
      if (response.status === 200) answered++
      else failures.push(`status ${response.status}`)
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err))
    }
  }
  // one after another (where the accept lock bites), then in fours (the threads at once)
  for (let i = 0; i < 30; i++) await one(i)
  for (let round = 0; round < 5; round++) await Promise.all([0, 1, 2, 3].map(async (k) => await one(100 + round * 4 + k)))
  t.same(failures, [], 'no request failed')
  t.equal(answered, 50)
})

// The same rule against a backend that behaves like libfcgi at its edges (test/helpers/fault-server).
const ANSWER = encodeRecord(RecordType.GET_VALUES_RESULT, 0, encodeNameValuePairs([['FCGI_MPXS_CONNS', '0']]))

t.test('an answer split across reads is an answer: the connection serves again', async (t) => {
  const server = await startFaultServer(t, {
    valuesOnConnection: async (conn) => {
      await conn.write(ANSWER.subarray(0, 3))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await conn.write(ANSWER.subarray(3))
    }
  })
  const client = makeClient(t, server.address, { keepAlive: 'auto', keepAliveLinger: 5000 })
  for (let i = 0; i < 3; i++) t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n')
  t.equal(server.connectionCount, 1, 'three requests on one connection')
  t.ok(server.requests.every((req) => req.keepConn), 'each asked to keep the connection')
})

t.test('anything but the answer while idle closes the connection, and nothing of it reaches a request', async (t) => {
  const server = await startFaultServer(t, {
    valuesOnConnection: async (conn) => {
      // the answer, then body bytes for the request that has ended
      await conn.write(Buffer.concat([ANSWER, encodeRecord(RecordType.STDOUT, conn.records.find((r) => r.type === RecordType.BEGIN_REQUEST)?.requestId ?? 1, Buffer.from('stale'))]))
    }
  })
  const client = makeClient(t, server.address, { keepAlive: 'auto', keepAliveLinger: 5000 })
  t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n')
  t.ok(await until(() => client.stats().dirtyClosed === 1), 'closed as unclean')
  t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n', 'the next request has only its own answer')
  t.equal(server.connectionCount, 2)
})

t.test('no answer within the linger: from then on a connection per request, without FCGI_KEEP_CONN', async (t) => {
  const server = await startFaultServer(t, { valuesOnConnection: () => {} })
  let told = 0
  const client = makeClient(t, server.address, { keepAlive: 'auto', maxConcurrency: 'auto', keepAliveLinger: 50, onReuseOff: () => { told++ } })
  // two at once: both connections come back, both are asked, neither answers
  const first = await Promise.all([0, 1].map(async () => (await readWhole(await client.request(responder('/x')))).body))
  t.same(first, ['ok\n', 'ok\n'])
  for (let i = 0; i < 2; i++) t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n')
  t.equal(server.connectionCount, 4, 'none of the connections was used twice')
  t.same(server.requests.map((req) => req.keepConn), [true, true, false, false], 'only the first two asked to keep their connections')
  t.equal(client.stats().limit, Infinity, 'and no discovered cap: a threaded app takes what comes')
  t.equal(told, 1, 'told once, for two connections left unread')
})

t.test('a backend that could not be asked is asked again later, and then keeps its connections', async (t) => {
  const socket = join(makeTempDir(t, 'ffcgi-probe-'), 'late.sock')
  const client = makeClient(t, { kind: 'unix', path: socket }, { keepAlive: 'auto' })
  // nothing listens yet: the probe and the request both fail to connect
  await t.rejects(client.request(responder('/x')))
  const server = await startFaultServer(t, { socket })
  t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n', 'served once it is up')
  // within the second after the failed probe, requests keep nothing; after it, the probe is asked again
  const asksToKeep = (): boolean => server.requests.some((req) => req.keepConn)
  const deadline = Date.now() + 10_000
  while (!asksToKeep() && Date.now() < deadline) {
    t.equal((await readWhole(await client.request(responder('/x')))).body, 'ok\n')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(asksToKeep(), 'a later request asks to keep its connection')
})
