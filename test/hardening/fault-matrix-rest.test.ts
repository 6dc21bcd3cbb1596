// Rows of the fault matrix that the per-fault files in test/gateway do not cover: STDOUT after
// END_REQUEST, a record longer than it announces, 10,000 headers, Status outside 100-999.
import t from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { RecordType, encodeRecord } from '../../plugin/protocol'
import { startFaultServer, faults } from '../helpers/fault-server'
import type { FaultBehaviour } from '../helpers/fault-server'
import type { FastcgiHostOptions } from '../../plugin'

async function gateway (t: Test, behaviour: FaultBehaviour, host: FastcgiHostOptions = {}): Promise<ReturnType<typeof Fastify>> {
  const backend = await startFaultServer(t, behaviour)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, ...host }] } })
  return app
}

t.test('STDOUT after END_REQUEST never reaches a client, on that request or the next ones', async (t) => {
  const app = await gateway(t, faults.stdoutAfterEnd('SMUGGLED'))
  for (let i = 0; i < 3; i++) {
    const res = await app.inject('/app')
    t.equal(res.statusCode, 200)
    t.notMatch(res.body, /SMUGGLED/, `request ${i}: nothing after END_REQUEST reaches a client`)
  }
})

t.test('a record longer than its header announces: 502', async (t) => {
  const app = await gateway(t, {
    onRequest: async (req, conn) => {
      const record = encodeRecord(RecordType.STDOUT, req.requestId, Buffer.from('Content-Type: text/plain\r\n\r\nhello'))
      record.writeUInt16BE(3, 4) // announce 3 bytes, send more: the rest is read as the next header
      await conn.write(record)
      await conn.end(req.requestId)
    }
  })
  const res = await app.inject('/app')
  t.equal(res.statusCode, 502)
})

t.test('10,000 headers: over the default headerLimit 502; under a raised one all reach the client', async (t) => {
  const block = Array.from({ length: 10_000 }, (_v, i) => `X-H${i}: ${i}\r\n`).join('') + '\r\n'
  const limited = await gateway(t, faults.rawHeaders(block, 'body'))
  t.equal((await limited.inject('/app')).statusCode, 502)
  const app = Fastify()
  t.teardown(() => app.close())
  const backend = await startFaultServer(t, faults.rawHeaders(block, 'body'))
  await app.register(fastcgi, { documentRoot: process.cwd(), headerLimit: 1024 * 1024, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject('/app')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-h9999'], '9999', 'the last of 10,000 headers arrived')
  t.equal(res.body, 'body')
})

t.test('Status outside 100-999 is a 502', async (t) => {
  for (const status of ['99', '1000', '0', 'abc']) {
    const app = await gateway(t, faults.rawHeaders(`Status: ${status}\r\nContent-Type: text/plain\r\n\r\n`, 'x'))
    t.equal((await app.inject('/app')).statusCode, 502, `Status: ${status}`)
  }
})
