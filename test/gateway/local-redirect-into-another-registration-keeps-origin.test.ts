// A local redirect whose target another registration serves (a root registration's Location
// under /b/, where a second registration is mounted): the hop keeps its link to the client's
// request there too, so the backend gets the client's connection variables and never the
// gateway's private link header. Before, each registration knew only its own hops: in the
// other one the hop looked like a client request from inject's stand-in (no REMOTE_PORT, the
// link token as HTTP_X_FASTCGI_LOCAL_REDIRECT) and its count started again at 0.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { request } from '../helpers/http'

t.test('a hop into another registration', async (t) => {
  const redirecting = await startFaultServer(t, faults.rawHeaders('Location: /b/x.php\r\n\r\n', ''))
  const echo = await startFaultServer(t, faults.echoParams())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '.php': [{ ...redirecting.options, checkLocal: false }] } })
  await app.register(fastcgi, { prefix: '/b', documentRoot: process.cwd(), server: { '.php': [{ ...echo.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  const res = await request(`http://127.0.0.1:${port}/first.php`)
  t.equal(res.status, 200, 'served by the second registration')
  const params = new Map(String(res.body).trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
  t.equal(params.get('SCRIPT_NAME'), '/b/x.php')
  t.equal(params.get('HTTP_X_FASTCGI_LOCAL_REDIRECT'), undefined, 'the link token never reaches a backend')
  t.equal(params.get('SERVER_PORT'), String(port), 'the client\'s connection: the port it reached')
  t.match(params.get('REMOTE_PORT') ?? '', /^[0-9]+$/, 'and its own port')
})
