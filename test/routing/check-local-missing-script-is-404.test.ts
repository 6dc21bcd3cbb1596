// checkLocal (the default): a script that does not exist locally is a 404 from the gateway and
// the backend is never contacted (lighttpd 2.1: the core's file check comes first).
import t from 'tap'
import net from 'node:net'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES } from '../helpers/php'

t.test('a missing script answers 404 without a connection to the backend', async (t) => {
  let connections = 0
  const backend = net.createServer((socket) => { connections++; socket.destroy() })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => backend.close(() => resolve())))
  const port = (backend.address() as net.AddressInfo).port

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ host: '127.0.0.1', port }] } })
  // ready() runs the start-up check, which asks the backend once on a connection of its own
  await app.ready()
  connections = 0
  for (const url of ['/missing.php', '/missing.php/extra', '/dir/missing.php', '/info/nothing.php?x=1', '/hello.php.bak/x.php']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
  }
  t.equal(connections, 0, 'the backend was not contacted')

  // the control: an existing script does reach it (and fails there, as this backend hangs up)
  const res = await app.inject({ url: '/hello.php' })
  t.not(res.statusCode, 404)
  t.equal(connections >= 1, true, 'an existing script does reach the backend')
})
