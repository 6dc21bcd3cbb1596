// The example Node FastCGI app (examples/fcgi-app) on fd 0, on a socket and on a port.
import t from 'tap'
import { join } from 'node:path'
import { startExampleApp, EXAMPLE_APP } from '../helpers/libfcgi'
import { spawnTracked, waitForAddress } from '../helpers/proc'
import { makeTempDir } from '../helpers/tmp'
import { freePort } from '../helpers/ports'
import { FcgiTestConnection, fcgiRequest, parseCgiResponse, scriptParams, encodeRequest } from '../helpers/fcgi-client'
import { RecordType, ProtocolStatus, Role, parseEndRequestBody } from '../../plugin/protocol'

const params = (uri: string, extra: Record<string, string> = {}): Record<string, string> => scriptParams('/srv', uri, extra)

t.test('keep-conn: three sequential requests on one connection', async (t) => {
  const app = await startExampleApp(t)
  const conn = await FcgiTestConnection.open(app.address)
  t.teardown(() => conn.socket.destroy())
  const connectionIds = new Set<string | undefined>()
  for (let i = 1; i <= 3; i++) {
    const res = await conn.request({ params: params(`/page?n=${i}`), keepConn: true, requestId: i })
    t.equal(res.protocolStatus, ProtocolStatus.REQUEST_COMPLETE)
    const cgi = parseCgiResponse(res.stdout)
    t.equal(cgi.status, 200)
    t.equal(cgi.header('x-request-number'), String(i), `request ${i} on the same connection`)
    connectionIds.add(cgi.header('x-connection'))
    t.equal(Number(cgi.header('content-length')), cgi.body.length)
    t.match(cgi.body.toString(), `n=${i}`)
  }
  t.equal(connectionIds.size, 1, 'one connection served all three')
  t.ok(conn.isOpen, 'still open after three requests')
})

t.test('without keep-conn the app closes the connection after the answer', async (t) => {
  const app = await startExampleApp(t, { port: 0 })
  const conn = await FcgiTestConnection.open(app.address)
  await conn.request({ params: params('/'), keepConn: false })
  await conn.closed
  t.notOk(conn.isOpen)
})

t.test('POST bodies are echoed, CGI variables escaped', async (t) => {
  const app = await startExampleApp(t)
  const res = await fcgiRequest(app.address, {
    params: params('/post?<script>', { REQUEST_METHOD: 'POST', CONTENT_LENGTH: '19', CONTENT_TYPE: 'text/plain' }),
    stdin: 'a=1&b=<b>bold</b>&&'
  })
  const html = parseCgiResponse(res.stdout).body.toString()
  t.match(html, 'method POST')
  t.match(html, '<pre>a=1&amp;b=&lt;b&gt;bold&lt;/b&gt;&amp;&amp;</pre>')
  t.match(html, '<td>&lt;script&gt;</td>')
  t.notMatch(html, '<script>')
})

t.test('GET_VALUES, CANT_MPX_CONN and UNKNOWN_ROLE', async (t) => {
  const app = await startExampleApp(t)
  const conn = await FcgiTestConnection.open(app.address)
  t.teardown(() => conn.socket.destroy())
  const values = await conn.getValues(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS', 'NOT_A_VALUE'])
  t.same(new Map(values).get('FCGI_MPXS_CONNS'), '0')
  t.same(values.map(([n]) => n).sort(), ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'])
  // a second request while the first is still receiving params: refused, the first still served
  const first = conn.expect(1)
  const second = conn.expect(2)
  const one = encodeRequest({ params: params('/one'), requestId: 1, keepConn: true })
  conn.write(one.subarray(0, 16)) // BEGIN_REQUEST for 1 only
  conn.write(encodeRequest({ params: params('/two'), requestId: 2, keepConn: true }))
  conn.write(one.subarray(16))
  t.equal((await second).protocolStatus, ProtocolStatus.CANT_MPX_CONN)
  t.equal((await first).protocolStatus, ProtocolStatus.REQUEST_COMPLETE)
  const authorizer = await conn.request({ params: params('/auth'), requestId: 3, role: Role.AUTHORIZER, keepConn: true })
  t.equal(authorizer.protocolStatus, ProtocolStatus.UNKNOWN_ROLE)
  const end = conn.records.filter((r) => r.type === RecordType.END_REQUEST).map((r) => parseEndRequestBody(r.content).protocolStatus)
  t.same(end, [ProtocolStatus.CANT_MPX_CONN, ProtocolStatus.REQUEST_COMPLETE, ProtocolStatus.UNKNOWN_ROLE])
})

t.test('--socket and FCGI_PORT start it without a spawner', async (t) => {
  const dir = makeTempDir(t)
  const socket = join(dir, 'app.sock')
  const bySocket = spawnTracked(t, [process.execPath, EXAMPLE_APP, '--socket', socket])
  await waitForAddress({ kind: 'unix', path: socket }, { proc: bySocket })
  const a = await fcgiRequest({ kind: 'unix', path: socket }, { params: params('/') })
  t.equal(parseCgiResponse(a.stdout).status, 200)
  const port = await freePort()
  const byEnv = spawnTracked(t, [process.execPath, EXAMPLE_APP], { env: { ...process.env, FCGI_PORT: String(port) } })
  await waitForAddress({ kind: 'tcp', host: '127.0.0.1', port }, { proc: byEnv })
  const b = await fcgiRequest({ kind: 'tcp', host: '127.0.0.1', port }, { params: params('/') })
  t.equal(parseCgiResponse(b.stdout).status, 200)
  await byEnv.stop()
  t.ok(byEnv.hasExited(), 'stops on SIGTERM')
})

t.test('without an address and without a socket on fd 0 it exits with usage', async (t) => {
  const proc = spawnTracked(t, [process.execPath, EXAMPLE_APP], { env: { PATH: process.env.PATH ?? '' } })
  const { code } = await proc.exited
  t.equal(code, 2)
  t.match(proc.output(), /usage/)
})
