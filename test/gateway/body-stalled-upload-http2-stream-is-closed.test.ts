// HTTP/2 (h2c, Fastify's `http2: true`): a stream whose client stopped sending its body gets
// its 408 after clientBodyTimeout (or its 413 at once, for a length past bodyLimit), and then
// the stream is closed (RST_STREAM NO_ERROR, RFC 9113
// 8.1: the server may ask the client to stop sending once its answer is complete), as the
// HTTP/1 connection is closed by its Connection: close. node:http2 leaves a stream whose body
// the server has read from open until the client ends it, so without this the stream, its
// request and its reply were held for as long as the client kept its session: Fastify's
// onResponse never ran, and the reply's 'close' (the plugin's measure and log line) never came.
// The session goes on serving other streams.
import t from 'tap'
import http2 from 'node:http2'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiPluginOptions } from '../../plugin'
import { captureLogs } from '../helpers/logs'
import type { TeardownHost } from '../helpers/tmp'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { loadsBackToZero } from '../hardening/support'

const TIMEOUT = 600

interface H2Gateway {
  app: ReturnType<typeof Fastify>
  session: http2.ClientHttp2Session
  logs: ReturnType<typeof captureLogs>
}

async function h2gateway (t: TeardownHost, options: FastcgiPluginOptions): Promise<H2Gateway> {
  const logs = captureLogs()
  const app = Fastify({ http2: true, logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  return { app, session, logs }
}

/** Resolves with the promise's value, or with `fallback` once ms have passed. */
function within<T, F> (promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms)
    void promise.then((value) => { clearTimeout(timer); resolve(value) })
  })
}

interface Stalled {
  /** the whole answer (its END_STREAM received) */
  answered: Promise<{ status: number, body: string }>
  /** the stream's close, with its RST_STREAM code */
  closed: Promise<number>
}

/** A POST that sends `sent` bytes of its body and then nothing, without ending the stream. */
function stalledUpload (session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders, sent: number): Stalled {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream', ...headers }, { endStream: false })
  stream.on('error', () => {})
  let status = 0
  const chunks: Buffer[] = []
  stream.on('response', (h) => { status = Number(h[':status']) })
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.write(Buffer.alloc(sent, 0x61))
  return {
    answered: new Promise((resolve) => stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }))),
    closed: new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)))
  }
}

function h2get (session: http2.ClientHttp2Session, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path })
    let status = 0
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Error(`GET ${path}: no answer in 10 s`)) }, 10_000)
    stream.on('response', (h) => { status = Number(h[':status']) })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => { clearTimeout(timer); resolve({ status, body: Buffer.concat(chunks).toString() }) })
    stream.on('error', (err) => { clearTimeout(timer); reject(err) })
  })
}

const skip = !hasPhpFpm() && 'php-fpm missing'

for (const [name, requestBuffering, headers, status, code] of [
  ['buffered, with a content-length', true, { 'content-length': '100000' }, 408, 'FST_FASTCGI_CLIENT_BODY_TIMEOUT'],
  ['buffered, without a content-length (always spooled)', true, {}, 408, 'FST_FASTCGI_CLIENT_BODY_TIMEOUT'],
  ['streamed (requestBuffering: false)', false, { 'content-length': '100000' }, 408, 'FST_FASTCGI_CLIENT_BODY_TIMEOUT'],
  // the same for a body refused at once for its announced length: the rest is not waited for
  ['a content-length past bodyLimit', true, { 'content-length': String(2 * 1048576) }, 413, 'FST_FASTCGI_BODY_TOO_LARGE']
] as const) {
  t.test(`HTTP/2, ${name}: ${status}, then the stream is closed and the session serves on`, { skip }, async (t) => {
    const fpm = await startPhpFpm(t, { children: 1 })
    const { app, session, logs } = await h2gateway(t, { documentRoot: PHP_FIXTURES, clientBodyTimeout: TIMEOUT, server: { '.php': [{ ...fpm.options, requestBuffering, readTimeout: 60000 }] } })
    const upload = stalledUpload(session, '/echo.php', headers, 1000)
    const answer = await within(upload.answered, TIMEOUT + 10_000, undefined)
    t.equal(answer?.status, status, `answered ${status}`)
    t.match(answer?.body ?? '', code, 'its code in the body')
    const rstCode = await within(upload.closed, 5000, 'still open')
    t.equal(rstCode, http2.constants.NGHTTP2_NO_ERROR, 'the stream is closed after the answer, with NO_ERROR')
    const completed = await within((async () => {
      while (!logs.lines.some((l) => l.msg === 'request completed' && (l.res as { statusCode?: number } | undefined)?.statusCode === status)) await new Promise((resolve) => setTimeout(resolve, 20))
      return true
    })(), 5000, false)
    t.ok(completed, 'the request is over for Fastify too (onResponse ran)')
    t.same(await loadsBackToZero(app), [0], 'the pool load is back to 0')
    const hello = await h2get(session, '/hello.php')
    t.equal(hello.status, 200, 'the same session serves the next stream')
    t.equal(hello.body, 'hello from php\n')
    t.same(logs.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg), [], 'no line at error level')
  })
}
