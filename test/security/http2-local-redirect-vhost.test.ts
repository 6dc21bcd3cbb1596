// A local redirect (`Location: /path` without Status) is a fresh request through the router:
// over HTTP/2 it must stay on the virtual host the client named in :authority, so that the
// hop meets that host's authorizer, as the client's own request for /path would.
import t from 'tap'
import http2 from 'node:http2'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'

function h2get (session: http2.ClientHttp2Session, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path, ':authority': 'admin.example' }, { endStream: true })
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

t.test('HTTP/2: a local redirect stays on the client\'s virtual host', async (t) => {
  // /start.php and /open.php redirect internally to /secret/x.php and /other.php; anything else echoes its params
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const script = req.param('SCRIPT_NAME')
      const answer = script === '/start.php'
        ? 'Location: /secret/x.php\r\n\r\n'
        : script === '/open.php'
          ? 'Location: /other.php\r\n\r\n'
          : 'Content-Type: text/plain\r\n\r\n' + req.params.map(([n, v]) => `${n}=${v}\n`).join('')
      await conn.respond(answer, req.requestId)
    }
  })
  const gate = await startFaultServer(t, { onRequest: async (req, conn) => { await conn.respond('Status: 403\r\nContent-Type: text/plain\r\n\r\ndenied', req.requestId) } })
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(async (scope) => {
    await scope.register(fastcgi, {
      documentRoot: process.cwd(),
      constraints: { host: 'admin.example' },
      server: { '/secret/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }], '.php': [{ ...backend.options, checkLocal: false }] }
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

  const direct = await h2get(session, '/secret/x.php')
  t.equal(direct.status, 403, 'asked directly, /secret/x.php is denied')
  const hop = await h2get(session, '/start.php')
  t.equal(hop.status, 403, `reached through a local redirect, it is denied too (${hop.status} ${hop.body.slice(0, 200)})`)
  t.notMatch(hop.body, /SCRIPT_NAME=\/secret\/x\.php/, 'the backend never ran it')
  const open = await h2get(session, '/open.php')
  t.equal(open.status, 200, 'an unguarded hop is served')
  t.match(open.body, /^SCRIPT_NAME=\/other\.php$/m)
  t.match(open.body, /^HTTP_HOST=admin\.example$/m, 'on the client\'s host')
  t.match(open.body, /^SERVER_PROTOCOL=HTTP\/2\.0$/m, 'described by the client\'s own request')
})
