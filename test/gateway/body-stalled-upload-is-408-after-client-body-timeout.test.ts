// A client that stops sending its request body is cut after clientBodyTimeout (nginx's
// client_body_timeout, lighttpd's server.max-read-idle): 408, its connection closed, a temp
// file it had filled removed, and nothing held for it any longer. Buffered (the default), the
// backend never saw the request. Streamed (requestBuffering: false), the php-fpm worker reading
// the body is freed and the client, not the backend, is blamed. Before, a buffered upload that
// stopped was held for as long as the client kept its connection (Fastify's requestTimeout is
// off by default), and a streamed one ended as a 504 "backend sent nothing" after readTimeout.
import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiPluginOptions } from '../../plugin'
import { captureLogs } from '../helpers/logs'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { loadsBackToZero, parseResponse, rawConnect, sleep } from '../hardening/support'
import { waitUntil } from '../helpers/descriptors'

const TIMEOUT = 600
// PHP otherwise reads the whole body before the script starts; off, the script runs first and
// writes its marker while the upload is still under way
const LAZY_BODY = { enable_post_data_reading: '0' }

async function gateway (t: TeardownHost, options: FastcgiPluginOptions): Promise<{ port: number, base: string, logs: ReturnType<typeof captureLogs>, app: ReturnType<typeof Fastify> }> {
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return { port, base: `http://127.0.0.1:${port}`, logs, app }
}


const skip = !hasPhpFpm() && 'php-fpm missing'

t.test('buffered: a stopped upload is answered 408 and its connection closed', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const { port, base, logs } = await gateway(t, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 4096, spoolDirectory, clientBodyTimeout: TIMEOUT, server: { '.php': [fpm.options] } })

  for (const [sent, where] of [[1000, 'in memory'], [16384, 'in a temp file']] as const) {
    const conn = await rawConnect(t, port)
    await conn.write('POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n')
    await conn.write(Buffer.alloc(sent, 0x61))
    const started = Date.now()
    if (sent > 4096) await waitUntil('the temp file', () => readdirSync(spoolDirectory).length === 1)
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, TIMEOUT + 10000)
    const elapsed = Date.now() - started
    t.equal(parseResponse(text)?.status, 408, `${where}: 408 Request Timeout`)
    t.match(parseResponse(text)?.headers.connection ?? '', /close/i, `${where}: Connection: close`)
    t.ok(elapsed >= TIMEOUT - 100, `${where}: not before clientBodyTimeout (${elapsed} ms)`)
    await waitUntil('the server closes the connection', () => conn.closed())
    t.ok(conn.closed(), `${where}: the connection is closed`)
    await waitUntil('the temp file removed', () => readdirSync(spoolDirectory).length === 0)
    t.same(readdirSync(spoolDirectory), [], `${where}: no temp file left`)
  }
  const timedOut = logs.lines.filter((l) => (l.err as { code?: string } | undefined)?.code === 'FST_FASTCGI_CLIENT_BODY_TIMEOUT')
  t.equal(timedOut.length, 2, 'each is logged with its code')
  t.same(timedOut.map((l) => l.level), [30, 30], 'at info: the client\'s doing, not a server error')
  t.same(logs.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg), [], 'no line at error level')
  const hello = await request(`${base}/hello.php`, { timeoutMs: 10000 })
  t.equal(hello.status, 200, 'the server keeps serving')
})

t.test('buffered: gaps shorter than clientBodyTimeout never cut an upload, however long it takes', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const { port } = await gateway(t, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 4096, spoolDirectory: makeTempDir(t, 'ffcgi-spool-'), clientBodyTimeout: TIMEOUT, server: { '.php': [fpm.options] } })
  const conn = await rawConnect(t, port)
  const pieces = 12
  const piece = 1000
  await conn.write(`POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${pieces * piece}\r\n\r\n`)
  const started = Date.now()
  for (let i = 0; i < pieces && !conn.closed(); i++) {
    await conn.write(Buffer.alloc(piece, 0x61 + i))
    await sleep(TIMEOUT / 3)
  }
  const res = parseResponse(await conn.waitFor((s) => parseResponse(s) !== undefined, 10000))
  t.ok(Date.now() - started > 3 * TIMEOUT, 'the upload took more than three times clientBodyTimeout')
  t.equal(res?.status, 200, 'answered 200')
  t.equal(res?.headers['x-body-length'], String(pieces * piece), 'php got the whole body')
  conn.destroy()
})

t.test('clientBodyTimeout: 0 waits for a client that pauses', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const { port } = await gateway(t, { documentRoot: PHP_FIXTURES, clientBodyTimeout: 0, server: { '.php': [fpm.options] } })
  const conn = await rawConnect(t, port)
  await conn.write('POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000\r\n\r\n')
  await conn.write(Buffer.alloc(1000, 0x61))
  await sleep(3 * TIMEOUT)
  t.equal(conn.received(), '', 'nothing answered during the pause')
  t.notOk(conn.closed(), 'the connection is still open')
  await conn.write(Buffer.alloc(1000, 0x62))
  const res = parseResponse(await conn.waitFor((s) => parseResponse(s) !== undefined, 10000))
  t.equal(res?.status, 200, 'the body completed after the pause is served')
  t.equal(res?.headers['x-body-length'], '2000')
  conn.destroy()
})

t.test('streamed: a stopped upload frees the php-fpm worker reading it, 408 and not 504', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1, ini: LAZY_BODY })
  const markers = makeTempDir(t, 'ffcgi-marker-')
  // readTimeout far above clientBodyTimeout: what ends the request is the client's silence
  const { port, base, logs, app } = await gateway(t, { documentRoot: PHP_FIXTURES, clientBodyTimeout: TIMEOUT, server: { '.php': [{ ...fpm.options, requestBuffering: false, readTimeout: 60000 }] } })
  const marker = join(markers, 'started')
  const conn = await rawConnect(t, port)
  await conn.write(`POST /body/started.php?marker=${encodeURIComponent(marker)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`)
  await conn.write(Buffer.alloc(1000, 0x61))
  await waitUntil('the script runs while the upload is under way', () => existsSync(marker))
  const started = Date.now()
  const text = await conn.waitFor((s) => parseResponse(s) !== undefined, TIMEOUT + 10000)
  const elapsed = Date.now() - started
  t.equal(parseResponse(text)?.status, 408, '408 Request Timeout: the client stopped, not the backend')
  t.ok(elapsed < 10000, `well before readTimeout (${elapsed} ms)`)
  await waitUntil('the server closes the connection', () => conn.closed())
  t.ok(conn.closed(), 'the connection is closed')
  t.same(await loadsBackToZero(app), [0], 'the pool load is back to 0')
  const hello = await request(`${base}/hello.php`, { timeoutMs: 10000 })
  t.equal(hello.status, 200, 'the only worker serves the next request')
  t.equal(hello.body.toString(), 'hello from php\n')
  const timedOut = logs.lines.find((l) => (l.err as { code?: string } | undefined)?.code === 'FST_FASTCGI_CLIENT_BODY_TIMEOUT')
  t.equal(timedOut?.level, 30, 'logged at info with its code')
  t.same(logs.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg), [], 'no line at error level')
})
