// HEAD through php-cgi: the status and headers of the GET, no body, and the backend is
// freed (the next requests succeed on the same single worker). Over real HTTP, so that a
// body sent by mistake would show up on the wire.
import t from 'tap'
import Fastify from 'fastify'
import net from 'node:net'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { startFaultServer, faults } from '../helpers/fault-server'

/** Raw bytes of one HTTP/1.1 exchange (Connection: close), to see exactly what the server sent. */
async function raw (port: number, head: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(new Error('no end within 30 s')) }, 30_000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
    socket.on('error', (err) => { clearTimeout(timer); reject(err) })
    socket.write(head)
  })
}

t.test('HEAD returns the headers and no body', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  for (let i = 0; i < 3; i++) {
    const text = await raw(port, 'HEAD /status.php?status=201%20Made&cookies=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    const [head, rest] = text.split('\r\n\r\n', 2)
    t.match(head, /^HTTP\/1\.1 201 /, `#${i}: status from the script`)
    t.match(head, /\r\ncontent-type: text\/plain/i, `#${i}: headers from the script`)
    t.equal((head ?? '').match(/\r\nset-cookie: /gi)?.length, 2, `#${i}: both cookies`)
    t.equal(rest, '', `#${i}: nothing after the head`)
  }
  // a big body behind HEAD is not sent either, and the worker is freed
  const big = await raw(port, 'HEAD /big.php?bytes=5000000&cl=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  t.match(big, /^HTTP\/1\.1 200 /)
  t.match(big, /\r\ncontent-length: 5000000\r\n/i, 'the GET\'s Content-Length')
  t.equal(big.split('\r\n\r\n', 2)[1], '', 'no body bytes')
  const get = await request(`http://127.0.0.1:${port}/hello.php`, { timeoutMs: 30_000 })
  t.equal(get.status, 200)
  t.equal(get.body.toString(), 'hello from php\n', 'the backend serves the next GET')
})

t.test('HEAD to a backend that sends a body anyway: the body is dropped', async (t) => {
  const backend = await startFaultServer(t, { ...faults.rawHeaders('Content-Type: text/plain\r\nX-Made: yes\r\n\r\n', 'a body that must not go out\n') })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const text = await raw(port, 'HEAD /app HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  const [head, rest] = text.split('\r\n\r\n', 2)
  t.match(head, /^HTTP\/1\.1 200 /)
  t.match(head, /\r\nx-made: yes/i)
  t.equal(rest, '', 'no body bytes')
  t.equal(backend.requests[0]?.param('REQUEST_METHOD'), 'HEAD', 'the backend was asked with HEAD')
})
