// Over HTTP/2 the site is named by :authority (a Host header is optional, and may be sent
// beside it). The router's host constraint takes `host || :authority`; a registration's
// authorizer must guard exactly the requests its routes take, and the backend must be told the
// host the routing was decided on: a request routed to admin.example's registration must be
// authorized by admin.example's authorizer, and one routed to the public site must not reach
// the backend as admin.example (RFC 9113 8.3.1: a Host differing from :authority is malformed).
import t from 'tap'
import http2 from 'node:http2'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

interface H2Answer { status: number, body: string }

function h2get (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': '/index.php', ...headers }, { endStream: true })
    let status = 0
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (h) => { status = Number(h[':status']) })
    stream.on('data', (c: string) => { body += c })
    stream.on('end', () => resolve({ status, body }))
    stream.on('error', reject)
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Error('h2 request timed out')) }, 10_000)
    stream.on('close', () => clearTimeout(timer))
  })
}

t.test('HTTP/2: a virtual host\'s authorizer guards what its routes take', async (t) => {
  const backend = await startFaultServer(t, faults.echoParams())
  const gate = await startFaultServer(t, faults.rawHeaders('Status: 403\r\nContent-Type: text/plain\r\n\r\n', 'denied'))
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(async (scope) => {
    await scope.register(fastcgi, {
      documentRoot: process.cwd(),
      constraints: { host: 'admin.example' },
      server: { '/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }], '.php': [{ ...backend.options, checkLocal: false }] }
    })
  })
  await app.register(async (scope) => {
    await scope.register(fastcgi, { documentRoot: process.cwd(), server: { '.php': [{ ...backend.options, checkLocal: false }] } })
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })

  const open = await h2get(session, { ':authority': 'www.example' })
  t.equal(open.status, 200, 'the public site')
  t.match(open.body, /^HTTP_HOST=www\.example$/m)

  const cases: http2.OutgoingHttpHeaders[] = [
    { ':authority': 'admin.example' },
    { ':authority': 'admin.example', host: 'admin.example' },
    { ':authority': 'admin.example', host: 'www.example' },
    { ':authority': 'www.example', host: 'admin.example' }
  ]
  for (const headers of cases) {
    const before = backend.requests.length
    const res = await h2get(session, headers)
    t.not(res.status, 200, `${JSON.stringify(headers)}: not served (${res.status})`)
    t.notMatch(res.body, /HTTP_HOST|SERVER_NAME/, 'no backend answered')
    t.equal(backend.requests.length, before, 'the backend was not asked')
  }
})
