// lighttpd's tcp-fin-propagate half-closes the backend connection when the client half-closes
// its own. Node's HTTP server takes a client's FIN for the end of the request (it aborts the
// request unless the application sets httpAllowHalfOpen), and the plugin then drops the
// backend connection: what the option asks for happens whatever its value, and more.
import t from 'tap'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startFaultServer } from '../helpers/fault-server'
import { listenGateway } from '../helpers/listen'

for (const tcpFinPropagate of [false, true]) {
  t.test(`tcpFinPropagate: ${String(tcpFinPropagate)}: a client FIN closes the backend connection`, async (t) => {
    const backend = await startFaultServer(t, {
      onRequest: async (req, conn) => {
        await conn.stall(5000)
        await conn.respond('Content-Type: text/plain\r\n\r\nlate\n', req.requestId)
      }
    })
    const { base } = await listenGateway(t, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, tcpFinPropagate }] } })
    const { port } = new URL(base)
    const client = net.connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true })
    t.teardown(() => client.destroy())
    await new Promise((resolve) => client.once('connect', resolve))
    client.write('GET /app HTTP/1.1\r\nHost: example.test\r\n\r\n')
    await backend.waitForRequests(1)
    t.equal(backend.openConnections, 1, 'the request is at the backend')
    client.end()
    const deadline = Date.now() + 3000
    while (backend.openConnections > 0 && Date.now() < deadline) await sleep(20)
    t.equal(backend.openConnections, 0, 'the backend connection was closed, well before the backend would have answered')
  })
}
