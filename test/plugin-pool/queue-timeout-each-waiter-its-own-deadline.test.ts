// The wait queue has one timer, not one per waiter; each waiter still gets its own deadline,
// queueTimeout after it arrived: a later arrival outlives an earlier one's timeout.
import t from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'

t.test('two waiters 250 ms apart time out in turn, the running request is unaffected', async (t) => {
  const backend = await startFaultServer(t, {
    values: { FCGI_MAX_CONNS: '1' },
    onRequest: async (req, conn) => {
      await conn.stall(1200)
      await conn.respond('Content-Type: text/plain\r\n\r\nslow\n', req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, queueTimeout: 400 }] } })
  const running = app.inject('/app')
  await backend.waitForRequests(1)
  const first = app.inject('/app')
  await sleep(250)
  let secondDone = false
  const second = app.inject('/app').then((res) => { secondDone = true; return res })
  const a = await first
  t.equal(a.statusCode, 503)
  t.equal(a.json().code, 'FST_FASTCGI_QUEUE_TIMEOUT')
  t.notOk(secondDone, 'the later waiter is still waiting when the first one times out')
  const b = await second
  t.equal(b.statusCode, 503)
  t.equal(b.json().code, 'FST_FASTCGI_QUEUE_TIMEOUT')
  const done = await running
  t.equal(done.statusCode, 200)
  t.equal(done.body, 'slow\n')
  t.equal(backend.requests.length, 1, 'the timed-out requests never reached the backend')
})
