// A client that sends its body slowly, with requestBuffering: false: the plugin streams bodies
// with a Content-Length to the backend as they arrive, so a slow client occupies a backend
// worker (by default the body is read first and no worker is held); the timeouts bound that:
// - an upload that stops: clientBodyTimeout (the client silent while the backend waits for its
//   body) ends it with 408, the client's doing, and frees the worker;
// - an upload that keeps trickling is not the backend's fault; Fastify's requestTimeout (the
//   application's bound on the whole request) ends it, and the worker is freed too;
// - a slow but steady legitimate upload longer than readTimeout still succeeds.
import t from 'tap'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { listenWithPlugin, loadsBackToZero, parseResponse, rawConnect, sleep } from './support'

const md5 = (buf: Buffer): string => createHash('md5').update(buf).digest('hex')

t.test('slow uploads against php-cgi with one worker', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const READ_TIMEOUT = 1000
  const REQUEST_TIMEOUT = 4000
  const { app, port, base } = await listenWithPlugin(t, {
    documentRoot: PHP_FIXTURES,
    clientBodyTimeout: READ_TIMEOUT,
    server: { '.php': [{ ...php.options, readTimeout: READ_TIMEOUT, writeTimeout: READ_TIMEOUT, requestBuffering: false }] }
    }, {
    // Fastify's requestTimeout option, with Node checking it every 250 ms instead of every 30 s
    serverFactory: (handler) => http.createServer({ requestTimeout: REQUEST_TIMEOUT, connectionsCheckingInterval: 250 }, handler)
  })

  const healthy = async (what: string): Promise<void> => {
    t.same(await loadsBackToZero(app), [0], `${what}: the pool load is back to 0`)
    const res = await request(`${base}/hello.php`, { timeoutMs: 10_000 })
    t.equal(res.status, 200, `${what}: the only worker serves the next request`)
    t.equal(res.body.toString(), 'hello from php\n')
  }

  await t.test('an upload that stops midway: 408 after clientBodyTimeout, worker freed', async (t) => {
    const conn = await rawConnect(t, port)
    const started = Date.now()
    await conn.write('POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n')
    await conn.write(Buffer.alloc(1000, 0x61))
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 10_000)
    const elapsed = Date.now() - started
    const res = parseResponse(text)
    t.equal(res?.status, 408, 'the client is told it took too long')
    t.ok(elapsed >= READ_TIMEOUT - 50 && elapsed < READ_TIMEOUT + 3000, `after about clientBodyTimeout (${elapsed} ms)`)
    conn.destroy()
    await healthy('after a stopped upload')
  })

  await t.test('a slow but steady upload longer than clientBodyTimeout and readTimeout succeeds', async (t) => {
    const conn = await rawConnect(t, port)
    const piece = Buffer.alloc(500)
    const pieces = 50
    const all: Buffer[] = []
    await conn.write(`POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${piece.length * pieces}\r\n\r\n`)
    const started = Date.now()
    for (let i = 0; i < pieces && !conn.closed(); i++) {
      const bytes = Buffer.from(piece.fill(i % 251))
      all.push(bytes)
      await conn.write(bytes)
      await sleep(60)
    }
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 10_000)
    const res = parseResponse(text)
    t.ok(Date.now() - started > 2 * READ_TIMEOUT, 'the upload took longer than twice readTimeout')
    t.equal(res?.status, 200, 'answered 200')
    t.equal(res?.headers['x-body-md5'], md5(Buffer.concat(all)), 'php got every byte')
    conn.destroy()
    await healthy('after a slow upload')
  })

  await t.test('an upload that trickles forever: cut by requestTimeout, worker freed', async (t) => {
    const conn = await rawConnect(t, port)
    const started = Date.now()
    await conn.write('POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n')
    // one byte every 100 ms: never idle long enough for clientBodyTimeout, never done
    for (let i = 0; i < 150 && !conn.closed() && parseResponse(conn.received()) === undefined; i++) {
      await conn.write('x')
      await sleep(100)
    }
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 3000)
    const elapsed = Date.now() - started
    const res = parseResponse(text)
    t.ok(res !== undefined || conn.closed(), 'the server answered or closed the connection')
    if (res !== undefined) t.equal(res.status, 408, 'Node answers 408 Request Timeout')
    t.ok(elapsed >= REQUEST_TIMEOUT - 100 && elapsed < REQUEST_TIMEOUT + 3000, `at requestTimeout (${elapsed} ms)`)
    conn.destroy()
    await healthy('after a trickling upload')
  })
})
