// A record the backend sends after END_REQUEST (a late STDOUT with a Set-Cookie, a second
// END_REQUEST, STDERR) must never be read as the next request's: whether it comes in the same
// read as END_REQUEST, while the connection is idle, or after the next request has begun on
// it. Each time the connection is closed, never reused, and counted (dirtyClosed); the next
// request gets its own answer, on a fresh connection.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ProtocolStatus, RecordType, encodeEndRequest, encodeRecord, encodeStream } from '../../plugin/protocol'
import { startFaultServer } from '../helpers/fault-server'
import type { FaultConnection, FaultRequest } from '../helpers/fault-server'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'

type Late = 'set-cookie stdout' | 'second end-request' | 'stderr'

function lateRecord (late: Late, requestId: number): Buffer {
  switch (late) {
    case 'set-cookie stdout': return encodeRecord(RecordType.STDOUT, requestId, Buffer.from('Set-Cookie: session=victim\r\nContent-Type: text/plain\r\n\r\nstolen'))
    case 'second end-request': return encodeEndRequest(requestId, 0, ProtocolStatus.REQUEST_COMPLETE)
    case 'stderr': return encodeRecord(RecordType.STDERR, requestId, Buffer.from('late stderr'))
  }
}

function answer (text: string, requestId: number): Buffer {
  return Buffer.concat([
    encodeStream(RecordType.STDOUT, requestId, Buffer.from(`Content-Type: text/plain\r\n\r\n${text}`)),
    encodeRecord(RecordType.STDOUT, requestId),
    encodeEndRequest(requestId, 0, ProtocolStatus.REQUEST_COMPLETE)
  ])
}

async function serveRest (conn: FaultConnection, first: FaultRequest | null): Promise<void> {
  for (let req = first, i = 0; req !== null && i < 100; req = await conn.nextRequest(10_000), i++) {
    await conn.write(answer(`answer to ${req.param('X_NAME') ?? '?'}`, req.requestId))
    if (!req.keepConn) { await conn.close(); return }
  }
}

for (const late of ['set-cookie stdout', 'second end-request', 'stderr'] as const) {
  for (const when of ['same read', 'while idle', 'after the next request began'] as const) {
    t.test(`${late}, ${when}: never reaches the next request; the connection is closed and counted`, async (t) => {
      const server = await startFaultServer(t, {
        onConnection: async (conn) => {
          if (conn.index !== 0) { await serveRest(conn, await conn.nextRequest(10_000)); return }
          const first = await conn.nextRequest(10_000)
          if (first === null) return
          const stale = lateRecord(late, first.requestId)
          if (when === 'same read') {
            await conn.write(Buffer.concat([answer('answer to first', first.requestId), stale]))
          } else if (when === 'while idle') {
            await conn.write(answer('answer to first', first.requestId))
            await sleep(50)
            await conn.write(stale)
          } else {
            await conn.write(answer('answer to first', first.requestId))
            const next = await conn.nextRequest(10_000)
            if (next === null) return
            t.not(next.requestId, first.requestId, 'the next request on the connection has an id of its own')
            await conn.write(Buffer.concat([stale, answer('answer to second on the dirty connection', next.requestId)]))
          }
          await serveRest(conn, await conn.nextRequest(10_000))
        }
      })
      const client = makeClient(t, server.address)
      const stderr: string[] = []
      const onStderr = (chunk: Buffer): void => { stderr.push(chunk.toString()) }
      const first = await readWhole(await client.request(responder('/x.php', [['X_NAME', 'first']], { onStderr })))
      t.equal(first.body, 'answer to first')
      if (when === 'while idle') {
        t.ok(await until(() => client.stats().dirtyClosed === 1), 'the idle connection that received bytes was closed and counted')
      }
      const second = await readWhole(await client.request(responder('/x.php', [['X_NAME', 'second']], { onStderr })))
      t.equal(second.status, 200)
      t.equal(second.body, 'answer to second', 'the second request got its own answer')
      t.notOk(second.headers.some(([name]) => name.toLowerCase() === 'set-cookie'), 'no Set-Cookie of another request')
      t.same(stderr, [], 'no STDERR of another request')
      t.ok(await until(() => client.stats().dirtyClosed === 1), 'one connection closed as unclean')
      t.equal(server.connectionCount, 2, 'the second request went on a fresh connection')
      t.equal(client.stats().dirtyClosed, 1)
      if (when === 'after the next request began') t.equal(client.stats().retries, 1, 'and was sent again there')
      const third = await readWhole(await client.request(responder('/x.php', [['X_NAME', 'third']])))
      t.equal(third.body, 'answer to third')
      t.equal(server.connectionCount, 2, 'the clean connection is kept and reused')
    })
  }
}

t.test('a clean kept connection serves many requests, each with a fresh id', async (t) => {
  const ids: number[] = []
  const server = await startFaultServer(t, {
    onRequest: async (req, conn) => { ids.push(req.requestId); await conn.write(answer('ok', req.requestId)) }
  })
  const client = makeClient(t, server.address)
  for (let i = 0; i < 5; i++) t.equal((await readWhole(await client.request(responder('/x.php')))).body, 'ok')
  t.same(ids, [1, 2, 3, 4, 5])
  t.equal(server.connectionCount, 1)
  t.equal(client.stats().dirtyClosed, 0)
})
