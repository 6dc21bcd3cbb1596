// A client that goes away in the middle of its upload: the backend request is aborted, the
// pool's load goes back to 0 and the backend (one worker) serves the next request (streamed
// uploads, requestBuffering: false, where the upload holds the backend). A body that was being
// spooled leaves no temp file behind.
import t from 'tap'
import { readdirSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'
import { listenWithPlugin, loadsBackToZero, rawConnect, sleep } from './support'

/** Sends the head and sendBytes of body, then goes away; returns the backend loads seen just before. */
async function abortUpload (t: TeardownHost, app: FastifyInstance, port: number, head: string, sendBytes: number): Promise<number[]> {
  const conn = await rawConnect(t, port)
  await conn.write(head)
  const piece = Buffer.alloc(64 * 1024, 0x5a)
  for (let sent = 0; sent < sendBytes; sent += piece.length) await conn.write(piece)
  // the upload reaches the backend a moment after its bytes were written: wait for that, bounded
  const deadline = Date.now() + 5000
  while (app.fastcgi.backends().every((b) => b.load === 0) && Date.now() < deadline) await sleep(10)
  const loads = app.fastcgi.backends().map((b) => b.load)
  conn.destroy()
  return loads
}

t.test('php-cgi, one worker: Content-Length upload aborted at 1 MiB of 10 MiB', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { app, port, base } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, requestBuffering: false }] } }, { bodyLimit: 64 * 1024 * 1024 })
  for (let round = 0; round < 3; round++) {
    const during = await abortUpload(t, app, port, `POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`, 1024 * 1024)
    t.same(during, [1], `round ${round}: the upload held the backend`)
    t.same(await loadsBackToZero(app), [0], `round ${round}: load back to 0`)
    const next = await request(`${base}/echo.php`, { method: 'POST', body: 'after', headers: { 'content-type': 'text/plain' }, timeoutMs: 10_000 })
    t.equal(next.status, 200, `round ${round}: the worker serves the next request`)
    t.equal(next.body.toString(), 'after')
  }
})

t.test('php-cgi: chunked upload aborted while it is spooled to a temp file leaves no file', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const spool = makeTempDir(t, 'ffcgi-spool-')
  const { app, port, base } = await listenWithPlugin(t, {
    documentRoot: PHP_FIXTURES, spoolMemoryLimit: 64 * 1024, spoolDirectory: spool, server: { '.php': [php.options] }
  }, { bodyLimit: 64 * 1024 * 1024 })
  const conn = await rawConnect(t, port)
  await conn.write('POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n')
  const piece = Buffer.alloc(32 * 1024, 0x41)
  for (let i = 0; i < 16; i++) await conn.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]))
  let files: string[] = []
  for (let i = 0; i < 100 && files.length === 0; i++) { await sleep(20); files = readdirSync(spool) }
  t.equal(files.length, 1, 'the body went to a temp file')
  conn.destroy()
  for (let i = 0; i < 100 && files.length > 0; i++) { await sleep(20); files = readdirSync(spool) }
  t.same(files, [], 'the temp file is removed once the client is gone')
  t.same(await loadsBackToZero(app), [0], 'the backend was never taken')
  const next = await request(`${base}/hello.php`, { timeoutMs: 10_000 })
  t.equal(next.status, 200)
})

t.test('C libfcgi app (serial): upload aborted midway', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const hello = await startCApp(t, buildCApp('hello'))
  const { app, port, base } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/hello': [{ ...hello.options, checkLocal: false, requestBuffering: false }] } }, { bodyLimit: 64 * 1024 * 1024 })
  for (let round = 0; round < 3; round++) {
    const during = await abortUpload(t, app, port, `PUT /hello?md5=1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`, 512 * 1024)
    t.same(during, [1], `round ${round}: the upload held the backend`)
    t.same(await loadsBackToZero(app), [0], `round ${round}: load back to 0`)
    const next = await request(`${base}/hello?md5=1`, { method: 'PUT', body: Buffer.alloc(100000, 1), timeoutMs: 10_000 })
    t.equal(next.status, 200, `round ${round}: the single-threaded app serves the next request`)
    t.equal(next.headers['x-stdin-length'], '100000', 'with its whole body')
  }
})
