// RequestBodyPump on its own, over a socket pair: what stop() does to the body's source.
import t from 'tap'
import net from 'node:net'
import { PassThrough } from 'node:stream'
import { RequestBodyPump } from '../../plugin/client/request-body-pump'
import type { BodyPumpListener } from '../../plugin/client/request-body-pump'

/** A connected socket whose peer reads and drops everything. */
async function socketPair (t: { teardown (fn: () => void): void }): Promise<net.Socket> {
  const server = net.createServer((peer) => peer.resume())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  t.teardown(() => { socket.destroy(); server.close() })
  return socket
}

const quiet: BodyPumpListener = { onBodyChunk () {}, onDrainWait () {}, onBodyError () {}, onBodyEnd () {} }

t.test('stop() leaves a source of the caller paused and whole', async (t) => {
  const socket = await socketPair(t)
  const source = new PassThrough()
  const pump = new RequestBodyPump(source, socket, 1, quiet)
  pump.start()
  source.write('abc')
  pump.stop()
  t.equal(source.destroyed, false, 'the caller may still use it (or answer its client)')
  t.equal(source.isPaused(), true)
  t.equal(source.listenerCount('data'), 0, 'detached')
})

t.test('stop() destroys a source the pump owns (a spooled body opened for this attempt)', async (t) => {
  const socket = await socketPair(t)
  const source = new PassThrough()
  const pump = new RequestBodyPump(source, socket, 1, quiet, true)
  pump.start()
  source.write('abc')
  pump.stop()
  t.equal(source.destroyed, true, 'its descriptor is not left open')
  t.equal(source.listenerCount('data'), 0, 'detached')
})

t.test('a source that closes before its end is an aborted body', async (t) => {
  const socket = await socketPair(t)
  const source = new PassThrough()
  const errors: Error[] = []
  const pump = new RequestBodyPump(source, socket, 1, { ...quiet, onBodyError: (err) => errors.push(err) })
  pump.start()
  source.write('abc')
  source.destroy()
  await new Promise((resolve) => setImmediate(resolve))
  t.match(errors.map((err) => (err as { code?: string }).code), ['FST_FASTCGI_CLIENT_ABORTED'])
  t.equal(pump.running, false)
})
