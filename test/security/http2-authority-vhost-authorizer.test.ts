// Over HTTP/2 the site is named by :authority (a Host header is optional, and may be sent
// beside it). The router's host constraint takes `host || :authority`; a registration's
// authorizer must guard exactly the requests its routes take, and the backend must be told the
// host the routing was decided on: a request routed to admin.example's registration must be
// authorized by admin.example's authorizer, and one routed to the public site must not reach
// the backend as admin.example (RFC 9113 8.3.1: a Host differing from :authority is malformed).
import t from 'tap'
import type http2 from 'node:http2'
import { startFaultServer, faults } from '../helpers/fault-server'
import { h2get, h2session, listenGuardedAndOpen } from './virtual-hosts'

// every request of this file asks for /index.php
const INDEX = { ':path': '/index.php' }

t.test('HTTP/2: a virtual host\'s authorizer guards what its routes take', async (t) => {
  const backend = await startFaultServer(t, faults.echoParams())
  const gate = await startFaultServer(t, faults.rawHeaders('Status: 403\r\nContent-Type: text/plain\r\n\r\n', 'denied'))
  const { port } = await listenGuardedAndOpen(t, { guardKey: '/', gate, backend, http2: true })
  const session = h2session(t, port)

  const open = await h2get(session, { ...INDEX, ':authority': 'www.example' })
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
    const res = await h2get(session, { ...INDEX, ...headers })
    t.not(res.status, 200, `${JSON.stringify(headers)}: not served (${res.status})`)
    t.notMatch(res.body, /HTTP_HOST|SERVER_NAME/, 'no backend answered')
    t.equal(backend.requests.length, before, 'the backend was not asked')
  }
})
