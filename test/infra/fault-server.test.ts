// Each named fault-server behaviour produces on the wire what its name says.
import t from 'tap'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { startFaultServer, faults } from '../helpers/fault-server'
import type { FaultServer } from '../helpers/fault-server'
import { FcgiTestConnection, encodeRequest, parseCgiResponse } from '../helpers/fcgi-client'
import type { RawRecord } from '../helpers/fcgi-client'
import { RecordDecoder, RecordType, ProtocolStatus, encodeAbortRequest } from '../../plugin/protocol'
import type { BackendAddress } from '../../plugin/client/address'

const request = (id = 1, keepConn = false, stdin = ''): Buffer => encodeRequest({ params: { SCRIPT_NAME: '/x', REQUEST_METHOD: 'GET' }, requestId: id, keepConn, stdin })

/** Sends a request and collects raw bytes until the server closes, or timeoutMs (then we close). */
async function exchange (address: BackendAddress, bytes: Buffer, timeoutMs = 2000): Promise<{ raw: Buffer, records: RawRecord[], closedByServer: boolean, decodeError?: Error, chunks: number }> {
  const socket: Socket = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host)
  const chunks: Buffer[] = []
  const records: RawRecord[] = []
  let decodeError: Error | undefined
  const decoder = new RecordDecoder((type, requestId, content) => records.push({ type, requestId, content: Buffer.from(content) }))
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    if (decodeError === undefined) { try { decoder.push(chunk) } catch (err) { decodeError = err as Error } }
  })
  socket.on('error', () => {})
  socket.write(bytes)
  const closedByServer = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { socket.destroy(); resolve(false) }, timeoutMs)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
    socket.once('end', () => { clearTimeout(timer); socket.destroy(); resolve(true) })
  })
  return { raw: Buffer.concat(chunks), records, closedByServer, chunks: chunks.length, ...(decodeError !== undefined ? { decodeError } : {}) }
}

const stdoutOf = (records: RawRecord[]): string => Buffer.concat(records.filter((r) => r.type === RecordType.STDOUT).map((r) => r.content)).toString()
const types = (records: RawRecord[]): number[] => records.map((r) => r.type)

t.test('ok (default) on a unix socket and on a port; requests are recorded', async (t) => {
  for (const listen of [{}, { port: 0 }]) {
    const server: FaultServer = await startFaultServer(t, listen)
    const res = await exchange(server.address, request(7, false, 'body!'))
    t.equal(stdoutOf(res.records), 'Content-Type: text/plain\r\n\r\nok\n')
    t.same(types(res.records), [RecordType.STDOUT, RecordType.STDOUT, RecordType.END_REQUEST])
    t.ok(res.records.every((r) => r.requestId === 7))
    t.ok(res.closedByServer, 'closes without keep-conn')
    t.equal(server.requests.length, 1)
    t.equal(server.requests[0]?.param('SCRIPT_NAME'), '/x')
    t.equal(server.requests[0]?.stdin.toString(), 'body!')
  }
})

t.test('refuse: connect() fails with ECONNREFUSED, unix and TCP', async (t) => {
  for (const listen of [{}, { port: 0 }]) {
    const server = await startFaultServer(t, { ...faults.refuse(), ...listen })
    const code = await new Promise<string | undefined>((resolve) => {
      const a = server.address
      const s = a.kind === 'unix' ? connect(a.path) : connect(a.port, a.host)
      s.once('connect', () => { s.destroy(); resolve(undefined) })
      s.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code) })
    })
    t.equal(code, 'ECONNREFUSED', server.address.kind)
  }
})

t.test('accept-and-close and accept-and-destroy send nothing', async (t) => {
  for (const behaviour of [faults.acceptAndClose(), faults.acceptAndDestroy()]) {
    const server = await startFaultServer(t, behaviour)
    const res = await exchange(server.address, request())
    t.equal(res.raw.length, 0)
    t.ok(res.closedByServer)
  }
})

t.test('close mid-headers and mid-body: no END_REQUEST', async (t) => {
  const headers = await startFaultServer(t, faults.closeMidHeaders())
  const a = await exchange(headers.address, request())
  t.equal(stdoutOf(a.records), 'Status: 200 OK\r\nContent-Type: text/pl')
  t.notOk(types(a.records).includes(RecordType.END_REQUEST))
  t.ok(a.closedByServer)
  const body = await startFaultServer(t, faults.closeMidBody(1000, 5000))
  const b = await exchange(body.address, request())
  const cgi = parseCgiResponse(Buffer.from(stdoutOf(b.records)))
  t.equal(cgi.header('content-length'), '5000')
  t.equal(cgi.body.length, 1000)
  t.notOk(types(b.records).includes(RecordType.END_REQUEST))
  t.ok(b.closedByServer)
})

t.test('garbage is not FastCGI', async (t) => {
  const server = await startFaultServer(t, faults.garbage())
  const res = await exchange(server.address, request())
  t.match(res.raw.toString(), /^HTTP\/1.1 200 OK/)
  t.ok(res.decodeError, 'the decoder refuses it')
})

t.test('wrong request id, STDOUT after END_REQUEST, END_REQUEST without STDOUT, protocol statuses', async (t) => {
  const wrong = await startFaultServer(t, faults.wrongRequestId())
  const a = await exchange(wrong.address, request(5), 500)
  t.ok(a.records.length > 0 && a.records.every((r) => r.requestId === 6))
  const after = await startFaultServer(t, faults.stdoutAfterEnd())
  const b = await exchange(after.address, request())
  t.same(types(b.records), [RecordType.STDOUT, RecordType.STDOUT, RecordType.END_REQUEST, RecordType.STDOUT])
  const bare = await startFaultServer(t, faults.endWithoutStdout(3))
  const c = await exchange(bare.address, request())
  t.same(types(c.records), [RecordType.END_REQUEST])
  t.equal(c.records[0]?.content.readUInt32BE(0), 3, 'appStatus')
  for (const [which, status] of [['overloaded', ProtocolStatus.OVERLOADED], ['cant-mpx', ProtocolStatus.CANT_MPX_CONN], ['unknown-role', ProtocolStatus.UNKNOWN_ROLE]] as const) {
    const server = await startFaultServer(t, faults.endStatus(which))
    const d = await exchange(server.address, request())
    t.equal(d.records[0]?.content[4], status, which)
  }
})

t.test('stalls: before headers nothing comes; mid-body the headers come, then nothing', async (t) => {
  const before = await startFaultServer(t, faults.stallBeforeHeaders())
  const a = await exchange(before.address, request(), 300)
  t.equal(a.raw.length, 0)
  t.notOk(a.closedByServer)
  const mid = await startFaultServer(t, faults.stallMidBody(100))
  const b = await exchange(mid.address, request(), 300)
  t.equal(parseCgiResponse(Buffer.from(stdoutOf(b.records))).body.length, 100)
  t.notOk(b.closedByServer)
  t.notOk(types(b.records).includes(RecordType.END_REQUEST))
  await mid.waitForConnections(1)
  // the stalled script notices our close and ends: the server has no open connection left
  const deadline = Date.now() + 2000
  while (mid.openConnections > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(mid.openConnections, 0)
})

t.test('one byte at a time: many chunks, padded records, decodes to a complete answer', async (t) => {
  const server = await startFaultServer(t, faults.oneByteAtATime('Content-Type: text/plain\r\n\r\ntrickled\n'))
  const res = await exchange(server.address, request())
  t.ok(res.chunks > 10, `${res.chunks} chunks`)
  t.equal(stdoutOf(res.records), 'Content-Type: text/plain\r\n\r\ntrickled\n')
  t.same(types(res.records), [RecordType.STDOUT, RecordType.STDERR, RecordType.STDOUT, RecordType.STDOUT, RecordType.END_REQUEST])
})

t.test('raw header block and stderr', async (t) => {
  const raw = await startFaultServer(t, faults.rawHeaders('Location: /elsewhere\nX-A: 1\n\n', 'body'))
  const a = await exchange(raw.address, request())
  t.equal(stdoutOf(a.records), 'Location: /elsewhere\nX-A: 1\n\nbody')
  const err = await startFaultServer(t, faults.stderrThenOk('warned'))
  const b = await exchange(err.address, request())
  t.equal(b.records[0]?.type, RecordType.STDERR)
  t.equal(b.records[0]?.content.toString(), 'warned')
})

t.test('keep-conn, ABORT_REQUEST, GET_VALUES, custom scripts and close()', async (t) => {
  const server = await startFaultServer(t, {
    port: 0,
    deliverOn: 'params',
    onRequest: async (req, conn) => {
      if (req.param('SCRIPT_NAME') === '/abort-me') {
        await conn.stall(2000)
        if (req.aborted) await conn.end(req.requestId)
        return
      }
      const body = await req.stdinComplete
      await conn.respond(`Content-Type: text/plain\r\n\r\n${req.param('SCRIPT_NAME') ?? ''}:${body.length}`, req.requestId)
    }
  })
  const aborted = new Promise((resolve) => server.once('abort', resolve))
  const conn = await FcgiTestConnection.open(server.address)
  const values = await conn.getValues(['FCGI_MPXS_CONNS'])
  t.same(values, [['FCGI_MPXS_CONNS', '0']])
  for (let i = 1; i <= 3; i++) {
    const res = await conn.request({ params: { SCRIPT_NAME: `/r${i}` }, stdin: 'x'.repeat(i), requestId: i, keepConn: true })
    t.equal(parseCgiResponse(res.stdout).body.toString(), `/r${i}:${i}`)
  }
  const pending = conn.expect(9)
  conn.write(encodeRequest({ params: { SCRIPT_NAME: '/abort-me' }, requestId: 9, keepConn: true }))
  await server.waitForRequests(4)
  conn.write(encodeAbortRequest(9))
  await aborted
  t.equal((await pending).appStatus, 0)
  t.ok(server.requests[3]?.aborted)
  t.equal(server.connectionCount, 1)
  t.equal(server.openConnections, 1)
  await server.close()
  await conn.closed
  t.equal(server.openConnections, 0, 'close() destroys open connections')
})
