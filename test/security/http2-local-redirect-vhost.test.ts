// A local redirect (`Location: /path` without Status) is a fresh request through the router:
// over HTTP/2 it must stay on the virtual host the client named in :authority, so that the
// hop meets that host's authorizer, as the client's own request for /path would.
import t from 'tap'
import { startFaultServer } from '../helpers/fault-server'
import { h2get, h2session, listenGuardedAndOpen } from './virtual-hosts'

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
  const { port } = await listenGuardedAndOpen(t, { guardKey: '/secret/', gate, backend, http2: true })
  const session = h2session(t, port)
  // the client names admin.example
  const get = async (path: string): ReturnType<typeof h2get> => await h2get(session, { ':path': path, ':authority': 'admin.example' })

  const direct = await get('/secret/x.php')
  t.equal(direct.status, 403, 'asked directly, /secret/x.php is denied')
  const hop = await get('/start.php')
  t.equal(hop.status, 403, `reached through a local redirect, it is denied too (${hop.status} ${hop.body.slice(0, 200)})`)
  t.notMatch(hop.body, /SCRIPT_NAME=\/secret\/x\.php/, 'the backend never ran it')
  const open = await get('/open.php')
  t.equal(open.status, 200, 'an unguarded hop is served')
  t.match(open.body, /^SCRIPT_NAME=\/other\.php$/m)
  t.match(open.body, /^HTTP_HOST=admin\.example$/m, 'on the client\'s host')
  t.match(open.body, /^SERVER_PROTOCOL=HTTP\/2\.0$/m, 'described by the client\'s own request')
})
