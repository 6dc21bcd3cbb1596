// A request sent on a kept connection that turns out stale (the backend closed it: php-fpm's
// pm.max_requests) is sent again on a fresh connection, body included: a streamed body that
// had not been read yet flows there (it used to stay paused, ending in a 504 after
// readTimeout); a replayable body (Buffer, spooled file) is sent again whole; a stream of
// which a byte was taken is never replayed.
import t from 'tap'
import { Readable } from 'node:stream'
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { startFaultServer, faults } from '../helpers/fault-server'
import type { FaultConnection } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { RecordType } from '../../plugin/protocol'
import type { ReplayableBody } from '../../plugin/client/exchange'
import { makeClient, readWhole, responder } from '../helpers/backend-client'

/** A body that yields its chunks slowly, the first one only after `firstAfterMs`. */
function slowBody (chunks: Buffer[], firstAfterMs: number, gapMs = 5): Readable {
  let i = 0
  return new Readable({
    read () {
      const chunk = chunks[i++]
      setTimeout(() => { this.push(chunk ?? null) }, i === 1 ? firstAfterMs : gapMs)
    }
  })
}

function md5 (buf: Buffer): string {
  return createHash('md5').update(buf).digest('hex')
}

/** Connection 0 answers its first request, then closes as soon as the next one's params are in. */
function staleSecondTime (closeWhen: 'params' | 'first stdin byte'): Parameters<typeof startFaultServer>[1] {
  const echo = faults.echoStdin().onRequest
  return {
    deliverOn: 'params',
    onConnection: async (conn: FaultConnection) => {
      for (let i = 0; i < 100; i++) {
        const req = await conn.nextRequest(10_000)
        if (req === null) return
        if (conn.index === 0 && i === 1) {
          if (closeWhen === 'first stdin byte') {
            const deadline = Date.now() + 10_000
            while (!conn.records.some((r) => r.type === RecordType.STDIN && r.requestId === req.requestId && r.content.length > 0) && Date.now() < deadline) await sleep(5)
          }
          conn.destroy()
          return
        }
        await req.stdinComplete
        await echo?.(req, conn)
        if (!req.keepConn) { await conn.close(); return }
      }
    }
  }
}

t.test('stale kept connection, streamed body not read yet: sent on the fresh connection', async (t) => {
  const server = await startFaultServer(t, staleSecondTime('params'))
  const client = makeClient(t, server.address, { readTimeout: 5000 })
  const first = await readWhole(await client.request(responder('/x.php')))
  t.equal(first.status, 200)
  const payload = Buffer.from('a body that had not been read when the connection went stale\n'.repeat(50))
  const body = slowBody([payload.subarray(0, 1000), payload.subarray(1000)], 100)
  const second = await readWhole(await client.request(responder('/x.php', [['CONTENT_LENGTH', String(payload.length)]], { body })))
  t.equal(second.status, 200)
  t.equal(second.body, payload.toString(), 'the whole body reached the backend on the retry')
  t.equal(client.stats().retries, 1, 'sent once more')
  t.equal(server.connectionCount, 2)
})

t.test('stale kept connection, replayable body: sent again whole', async (t) => {
  const server = await startFaultServer(t, staleSecondTime('first stdin byte'))
  const client = makeClient(t, server.address)
  await readWhole(await client.request(responder('/x.php')))
  const payload = Buffer.alloc(200_000, 'r')
  let opened = 0
  const body: ReplayableBody = { length: payload.length, open: () => { opened++; return Readable.from([payload.subarray(0, 70_000), payload.subarray(70_000)]) } }
  const second = await readWhole(await client.request(responder('/x.php', [['CONTENT_LENGTH', String(payload.length)]], { body })))
  t.equal(second.status, 200)
  t.equal(md5(Buffer.from(second.body)), md5(payload), 'the backend got the whole body')
  t.equal(opened, 2, 'opened once per attempt')
  t.equal(client.stats().retries, 1)
})

t.test('stale kept connection, stream already partly sent: never replayed', async (t) => {
  const server = await startFaultServer(t, staleSecondTime('first stdin byte'))
  const client = makeClient(t, server.address)
  await readWhole(await client.request(responder('/x.php')))
  const body = slowBody([Buffer.from('first part;'), Buffer.from('second part')], 0, 200)
  await t.rejects(client.request(responder('/x.php', [['CONTENT_LENGTH', '22']], { body })), { code: 'FST_FASTCGI_PREMATURE_CLOSE' })
  t.equal(client.stats().retries, 0, 'not sent again')
  t.equal(server.connectionCount, 1, 'no second connection for it')
  t.equal(server.requests.length, 2)
})

t.test('php-fpm, pm.max_requests 2: slow streamed and replayable bodies, all echoed', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1, maxRequests: 2 })
  const client = makeClient(t, fpm.address, { readTimeout: 10_000 })
  const failures: string[] = []
  for (let i = 0; i < 30; i++) {
    const payload = Buffer.from(`request ${i} `.repeat(300 + i * 37))
    const kind = i % 3
    const body = kind === 0
      ? slowBody([payload.subarray(0, 100), payload.subarray(100)], 20)
      : kind === 1
        ? Buffer.from(payload)
        : { length: payload.length, open: () => Readable.from([payload]) }
    try {
      const res = await readWhole(await client.request(responder(`${PHP_FIXTURES}/echo.php`, [['REQUEST_METHOD', 'POST'], ['CONTENT_TYPE', 'application/octet-stream'], ['CONTENT_LENGTH', String(payload.length)]], { body })))
      if (res.status !== 200 || res.body !== payload.toString()) failures.push(`#${i}: status ${res.status}, ${res.body.length} bytes`)
    } catch (err) {
      failures.push(`#${i}: ${(err as Error).message}`)
    }
  }
  t.same(failures, [], 'every body reached PHP whole')
  t.equal(client.stats().inFlight, 0)
  t.comment(`retries on stale kept connections: ${client.stats().retries}`)
})
