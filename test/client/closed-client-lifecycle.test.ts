// A client that is closed or destroyed (app.close()) while requests are still on their way to
// the backend: none of them may open a connection afterwards, or hold one past destroy().
import t from 'tap'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeClient, responder, until } from '../helpers/backend-client'
import { Cancellation } from '../../plugin/client/cancellation'

t.test('a request waiting for the keepAlive \'auto\' probe when the client is destroyed never reaches the backend', async (t) => {
  // libfcgi-like: the unpadded probe gets no answer, so the request waits PROBE_TIMEOUT for it
  const fs = await startFaultServer(t, { ...faults.stallBeforeHeaders(), valuesOnConnection: () => {} })
  const client = makeClient(t, fs.address, { keepAlive: 'auto' })
  const pending = client.request(responder('/x.php', [], { cancellation: new Cancellation() }))
  pending.catch(() => {})
  await new Promise((resolve) => setTimeout(resolve, 50))
  client.destroy()
  await t.rejects(pending, { code: 'FST_FASTCGI_POOL_CLOSED' }, 'refused as a queued request is')
  // give a connect time to happen, were one made
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(fs.connectionCount, 0, 'no connection opened after destroy()')
  t.equal(client.stats().open, 0)
  t.equal(client.stats().inFlight, 0, 'no slot held')
})

t.test('a connect under way when the client is destroyed: the connection is dropped when it completes', async (t) => {
  const fs = await startFaultServer(t, { ...faults.stallBeforeHeaders(), port: 0 })
  const client = makeClient(t, fs.address, { keepAlive: true })
  const pending = client.request(responder('/x.php'))
  pending.catch(() => {})
  // past the closed checks, the connect issued, its completion not yet read
  for (let i = 0; i < 5; i++) await Promise.resolve()
  client.destroy()
  // within far less than readTimeout (10 s): a connection that survives destroy() stalls that long
  const settled = await Promise.race([pending.then(() => 'resolved', (err: { code?: string }) => err.code), new Promise((resolve) => setTimeout(() => resolve('still pending'), 1000))])
  t.equal(settled, 'FST_FASTCGI_POOL_CLOSED', 'refused at once')
  t.ok(await until(() => client.stats().open === 0 && fs.openConnections === 0, 1000), 'nothing left open after destroy()')
  t.equal(client.stats().inFlight, 0, 'no slot held')
})
