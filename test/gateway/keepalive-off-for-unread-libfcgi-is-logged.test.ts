// A libfcgi backend (it answers only a padded FCGI_GET_VALUES) that leaves a kept connection
// unread for its linger, as the threaded FCGX_Accept_r app can: the gateway says once, in its
// log, that this backend now gets a connection per request, and every request is answered.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'
import { captureLog } from '../helpers/log-capture'
import { until } from '../helpers/backend-client'

t.test('reuse turned off for a backend that did not read a kept connection: one log line', async (t) => {
  const server = await startFaultServer(t, { valuesOnConnection: () => {} })
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/f/': [{ ...server.options, checkLocal: false }] } })
  // two at once (two connections asked, neither answered), then two more
  const statuses = (await Promise.all([0, 1].map(async (i) => await app.inject(`/f/x?i=${i}`)))).map((res) => res.statusCode)
  for (let i = 2; i < 4; i++) statuses.push((await app.inject(`/f/x?i=${i}`)).statusCode)
  t.same([...new Set(statuses)], [200])
  const said = (): number => log.lines.filter((l) => l.msg.includes('left a kept connection unread')).length
  t.ok(await until(() => said() >= 1), 'logged')
  t.equal(said(), 1, 'once')
  const line = log.find('left a kept connection unread')
  const { address } = server
  t.equal(line?.address, address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`)
  t.same(server.requests.slice(2).map((req) => req.keepConn), [false, false], 'later requests do not ask to keep')
})
