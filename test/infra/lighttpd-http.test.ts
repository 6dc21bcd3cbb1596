// lighttpd (startLighttpd) in front of php-cgi, driven by the http helper: whole responses,
// a 4 MiB pattern body read slowly, an abort mid-response, and the two configs forms.
import t from 'tap'
import { join } from 'node:path'
import { hasPhpCgi, startPhpCgi, PHP_FIXTURES } from '../helpers/php'
import { hasLighttpd, startLighttpd, renderFastcgiServer } from '../helpers/lighttpd'
import { request, requestStream, readSlowly, abortMidResponse } from '../helpers/http'
import { PatternChecker } from '../helpers/pattern'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

t.test('renderFastcgiServer writes lighttpd syntax with hyphenated option names', async (t) => {
  const text = renderFastcgiServer({
    '.php': [{ socket: '/tmp/php.sock', checkLocal: false }],
    '/app/': { app: { host: '127.0.0.1', port: 9000, 'fix-root-scriptname': true } }
  })
  t.match(text, '".php" => ( ( "socket" => "/tmp/php.sock", "check-local" => "disable" ) )')
  t.match(text, '"/app/" => ( "app" => ( "host" => "127.0.0.1", "port" => 9000, "fix-root-scriptname" => "enable" ) )')
})

t.test('lighttpd + php-cgi', { skip: hasPhpCgi() && hasLighttpd() ? false : 'php-cgi or lighttpd missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const lighttpd = await startLighttpd(t, {
    documentRoot: PHP_FIXTURES,
    fastcgiServer: { '.php': [{ socket: (php.options as { socket: string }).socket, checkLocal: true }] },
    streamResponseBody: 2
  })

  t.test('env.php through lighttpd: the CGI environment lighttpd builds', async (t) => {
    const res = await request(`${lighttpd.url}/info/x.php/a/b?q=1`, { headers: { 'X-Custom': 'v' } })
    t.equal(res.status, 200)
    const json = JSON.parse(res.body.toString()) as { sapi: string, server: Record<string, string> }
    t.equal(json.sapi, 'cgi-fcgi')
    t.equal(json.server.SCRIPT_NAME, '/info/x.php')
    t.equal(json.server.PATH_INFO, '/a/b')
    t.equal(json.server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'info/x.php'))
    t.equal(json.server.QUERY_STRING, 'q=1')
    t.equal(json.server.HTTP_X_CUSTOM, 'v')
    t.match(json.server.SERVER_SOFTWARE, /^lighttpd/)
  })

  t.test('POST body round trip with md5, Buffer and stream bodies', async (t) => {
    const body = Buffer.alloc(65537)
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff
    const md5 = createHash('md5').update(body).digest('hex')
    const a = await request(`${lighttpd.url}/echo.php`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
    t.equal(a.headers['x-body-md5'], md5)
    t.ok(a.body.equals(body))
    const b = await request(`${lighttpd.url}/echo.php`, { method: 'POST', body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), headers: { 'content-type': 'application/octet-stream' } })
    t.equal(b.headers['x-body-md5'], md5, 'chunked upload')
  })

  t.test('several Set-Cookie and Status through lighttpd', async (t) => {
    const res = await request(`${lighttpd.url}/status.php?status=404&cookies=3`)
    t.equal(res.status, 404)
    t.equal((res.headers['set-cookie'] ?? []).length, 3)
  })

  t.test('a 4 MiB body read slowly matches the pattern', async (t) => {
    const bytes = 4 * 1024 * 1024
    const { req, res } = await requestStream(`${lighttpd.url}/big.php?bytes=${bytes}`)
    const checker = new PatternChecker()
    let steps = 0
    const result = await readSlowly(req, res, { bytesPerStep: 256 * 1024, pauseMs: 5, onChunk: (c) => { checker.push(c) }, onStep: () => { steps++ } })
    t.ok(result.complete)
    t.ok(checker.ok(bytes), `${checker.bytes} bytes, first mismatch ${checker.firstMismatch}`)
    t.ok(steps >= 10, `paused ${steps} times`)
  })

  t.test('aborting mid-response stops after the bytes asked for', async (t) => {
    const result = await abortMidResponse(`${lighttpd.url}/big.php?bytes=${64 * 1024 * 1024}`, 100_000)
    t.equal(result.status, 200)
    t.ok(result.received >= 100_000 && result.received < 64 * 1024 * 1024)
    // lighttpd and php-cgi still serve afterwards
    const res = await request(`${lighttpd.url}/hello.php`)
    t.equal(res.body.toString(), 'hello from php\n')
  })

  t.test('a backend killed mid-response: the client sees a body without "end"', async (t) => {
    const slowPhp = await startPhpCgi(t, { children: 0 })
    const l2 = await startLighttpd(t, { documentRoot: PHP_FIXTURES, fastcgiServer: { '.php': [{ socket: (slowPhp.options as { socket: string }).socket }] }, streamResponseBody: 2 })
    const pending = request(`${l2.url}/slow.php?mid=5000`, { allowAbort: true, timeoutMs: 20000 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    process.kill(slowPhp.pid, 'SIGKILL')
    const res = await pending
    t.equal(res.status, 200)
    t.equal(res.body.toString(), 'start\n', 'only what was sent before the kill')
  })
})

t.test('allowAbort: a response that breaks off resolves with aborted and the partial body', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('partial', () => { setTimeout(() => res.socket?.destroy(), 50) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const { port } = server.address() as AddressInfo
  const res = await request(`http://127.0.0.1:${port}/`, { allowAbort: true })
  t.equal(res.status, 200)
  t.ok(res.aborted)
  t.equal(res.body.toString(), 'partial')
  await t.rejects(request(`http://127.0.0.1:${port}/`), 'rejects without allowAbort')
})
