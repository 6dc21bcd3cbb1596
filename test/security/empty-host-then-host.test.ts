// Two Host headers are a 400 even when the first is empty. Node keeps the first Host
// (request.headers.host is ''), so route constraints and an authorizer bound to a virtual host
// see no host, while a backend given the second as HTTP_HOST / SERVER_NAME would serve the
// guarded site: `Host:` then `Host: admin.example` reached admin.example's application through
// the other registration, past admin.example's authorizer.
import t from 'tap'
import { startFaultServer, faults } from '../helpers/fault-server'
import { parseResponse, rawConnect } from '../hardening/support'
import { listenGuardedAndOpen } from './virtual-hosts'

async function ask (port: number, headerLines: string): Promise<{ status: number, body: string }> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(`GET /index.php HTTP/1.1\r\n${headerLines}Connection: close\r\n\r\n`)
    const res = parseResponse(await conn.waitFor(() => false, 10_000))
    return { status: res?.status ?? 0, body: res?.body ?? '' }
  } finally {
    conn.destroy()
  }
}

t.test('an empty Host before another one does not pass the second to the backend', async (t) => {
  const backend = await startFaultServer(t, faults.echoParams())
  const gate = await startFaultServer(t, faults.rawHeaders('Status: 403\r\nContent-Type: text/plain\r\n\r\n', 'denied'))
  // admin.example is guarded by its authorizer; every other host is the public site, on the same backend
  const { port } = await listenGuardedAndOpen(t, { guardKey: '/', gate, backend })

  const guarded = await ask(port, 'Host: admin.example\r\n')
  t.equal(guarded.status, 403, 'admin.example: the authorizer answers')
  const open = await ask(port, 'Host: www.example\r\n')
  t.equal(open.status, 200, 'another host: the public site')
  t.match(open.body, /^HTTP_HOST=www\.example$/m)

  for (const headers of ['Host:\r\nHost: admin.example\r\n', 'Host: \r\nHost: admin.example\r\n', 'Host: www.example\r\nHost:\r\n']) {
    const before = backend.requests.length
    const res = await ask(port, headers)
    t.equal(res.status, 400, `${JSON.stringify(headers)}: two Hosts are a 400`)
    t.notMatch(res.body, /admin\.example/, 'the backend never served admin.example')
    t.equal(backend.requests.length, before, 'the backend was not asked')
  }
})
