// Fail closed: an authorizer that is down answers 503 (with Retry-After); neither the
// application route nor the responder behind it ever sees the request.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('authorizer down: 503, and the request goes nowhere', async (t) => {
  const down = await startFaultServer(t, faults.refuse())
  const responder = await startFaultServer(t, faults.ok('responder\n'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: process.cwd(),
    server: {
      '/guarded/': { gate: { ...down.options, mode: 'authorizer', checkLocal: false } },
      '/guarded/app': { app: { ...responder.options, checkLocal: false } }
    }
  })
  let handled = 0
  app.get('/guarded/route', async () => { handled++; return 'let through' })
  app.get('/chosen', { preHandler: app.fastcgi.authorizer('gate') }, async () => { handled++; return 'let through' })

  for (const url of ['/guarded/route', '/guarded/app/x', '/chosen', '/guarded/route']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 503, `${url}: 503`)
    t.ok(Number(res.headers['retry-after']) >= 1, `${url}: Retry-After`)
    t.notMatch(res.body, 'let through')
    t.notMatch(res.body, 'responder')
  }
  t.equal(handled, 0, 'no route handler ran')
  t.equal(responder.requests.length, 0, 'the responder was never asked')
})
