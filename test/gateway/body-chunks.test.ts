// bodyChunks: a request body's chunks with an idle deadline (clientBodyTimeout). Only the
// client's silence counts, the stream is left usable for the 408, and an error while the
// consumer is busy between chunks is thrown at the next read, never left uncaught.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { bodyChunks } from '../../plugin/fastify/body-chunks'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function collect (stream: PassThrough, idleMs: number, between = 0): Promise<string[]> {
  const seen: string[] = []
  for await (const chunk of bodyChunks(stream, idleMs)) {
    seen.push(chunk.toString())
    if (between > 0) await sleep(between)
  }
  return seen
}

t.test('every chunk in order, then the end', async (t) => {
  const stream = new PassThrough()
  const seen = collect(stream, 1000)
  for (const piece of ['a', 'b', 'c']) {
    stream.write(piece)
    await sleep(20)
  }
  stream.end()
  t.same((await seen).join(''), 'abc')
})

t.test('a client silent for idleMs: ClientBodyTimeoutError, and the stream is not destroyed', async (t) => {
  const stream = new PassThrough()
  stream.write('first')
  const started = Date.now()
  await t.rejects(collect(stream, 200), { code: 'FST_FASTCGI_CLIENT_BODY_TIMEOUT', statusCode: 408 })
  t.ok(Date.now() - started >= 190, 'not before idleMs')
  t.notOk(stream.destroyed, 'the connection stays usable for the answer')
  t.equal(stream.listenerCount('error') + stream.listenerCount('readable') + stream.listenerCount('close') + stream.listenerCount('end'), 0, 'no listener left behind')
})

t.test('the consumer\'s own time between chunks does not count', async (t) => {
  const stream = new PassThrough()
  stream.write('a')
  stream.write('b')
  stream.end('c')
  // each chunk takes the consumer three times idleMs: the client is not waited for at all
  t.same((await collect(stream, 50, 150)).join(''), 'abc')
})

t.test('idleMs 0: no deadline', async (t) => {
  const stream = new PassThrough()
  const seen = collect(stream, 0)
  await sleep(100)
  stream.end('late')
  t.same(await seen, ['late'])
})

t.test('an error while the consumer is busy is thrown at the next read, not uncaught', async (t) => {
  const stream = new PassThrough()
  stream.write('a')
  const iterator = bodyChunks(stream, 1000)
  t.equal((await iterator.next()).value?.toString(), 'a')
  // the consumer is between chunks: only bodyChunks' own listener is there
  stream.destroy(new Error('connection reset'))
  await sleep(10)
  await t.rejects(iterator.next(), { message: 'connection reset' })
})

t.test('closed before its end: the client went away', async (t) => {
  const stream = new PassThrough()
  const seen = collect(stream, 1000)
  stream.write('part')
  await sleep(10)
  stream.destroy()
  await t.rejects(seen, { code: 'FST_FASTCGI_CLIENT_ABORTED' })
})

t.test('a stream someone called setEncoding() on: the bytes the client sent, not their UTF-8 re-encoding', async (t) => {
  const bytes = Buffer.from([0x61, 0xe9, 0xff, 0x00, 0x80])
  for (const encoding of ['latin1', 'base64', 'hex'] as const) {
    const stream = new PassThrough()
    stream.setEncoding(encoding)
    stream.end(bytes)
    const chunks: Buffer[] = []
    for await (const chunk of bodyChunks(stream, 1000)) chunks.push(chunk)
    t.same(Buffer.concat(chunks), bytes, encoding)
  }
})

t.test('an object-mode stream of Uint8Arrays: their bytes, not "97,98"', async (t) => {
  const stream = new PassThrough({ objectMode: true })
  stream.write(new Uint8Array([0x61, 0x62]))
  stream.end(new Uint8Array([0x63]))
  const chunks: Buffer[] = []
  for await (const chunk of bodyChunks(stream, 1000)) chunks.push(chunk)
  t.equal(Buffer.concat(chunks).toString('latin1'), 'abc')
})
