// php-cgi started by startPhpCgi answers env.php, echo.php and stderr.php over raw FastCGI.
import t from 'tap'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { hasPhpCgi, startPhpCgi, PHP_FIXTURES } from '../helpers/php'
import { fcgiRequest, parseCgiResponse, scriptParams, FcgiTestConnection } from '../helpers/fcgi-client'

if (!hasPhpCgi()) {
  t.plan(0, 'php-cgi is not installed')
} else {
  t.test('php-cgi on a unix socket answers env.php with the params it was sent', async (t) => {
    const php = await startPhpCgi(t)
    t.equal(php.address.kind, 'unix')
    const res = await fcgiRequest(php.address, { params: scriptParams(PHP_FIXTURES, '/env.php?a=1', { HTTP_X_TEST: 'yes' }) })
    t.equal(res.protocolStatus, 0)
    const cgi = parseCgiResponse(res.stdout)
    t.equal(cgi.status, 200)
    t.match(cgi.header('content-type'), /application\/json/)
    const json = JSON.parse(cgi.body.toString()) as { sapi: string, server: Record<string, unknown> }
    t.equal(json.sapi, 'cgi-fcgi')
    t.equal(json.server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'))
    t.equal(json.server.QUERY_STRING, 'a=1')
    t.equal(json.server.HTTP_X_TEST, 'yes')
    t.notOk('HOME' in json.server, 'php-cgi ran without the test runner environment')
    const keys = Object.keys(json.server)
    t.same(keys, [...keys].sort(), 'keys are sorted')
  })

  t.test('php-cgi on a TCP port with children echoes a body with its md5', async (t) => {
    const php = await startPhpCgi(t, { port: 0, children: 2 })
    t.equal(php.address.kind, 'tcp')
    t.same(php.options, { host: '127.0.0.1', port: (php.address as { port: number }).port })
    const body = Buffer.alloc(70000)
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff
    const res = await fcgiRequest(php.address, {
      params: scriptParams(PHP_FIXTURES, '/echo.php', { REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'application/octet-stream' }),
      stdin: body
    })
    const cgi = parseCgiResponse(res.stdout)
    t.equal(cgi.header('x-body-md5'), createHash('md5').update(body).digest('hex'))
    t.equal(cgi.header('x-content-length'), String(body.length))
    t.equal(cgi.header('x-content-type'), 'application/octet-stream')
    t.ok(cgi.body.equals(body), 'body echoed byte for byte')
  })

  t.test('php-cgi sends error_log() to FCGI_STDERR and keeps a connection with KEEP_CONN', async (t) => {
    const php = await startPhpCgi(t)
    const conn = await FcgiTestConnection.open(php.address)
    t.teardown(() => conn.socket.destroy())
    const first = await conn.request({ params: scriptParams(PHP_FIXTURES, '/stderr.php?msg=hello-stderr'), keepConn: true })
    t.match(first.stderr.toString(), /hello-stderr/)
    t.match(parseCgiResponse(first.stdout).body.toString(), /body after stderr/)
    const second = await conn.request({ params: scriptParams(PHP_FIXTURES, '/status.php?status=404&cookies=2'), keepConn: true, requestId: 2 })
    const cgi = parseCgiResponse(second.stdout)
    t.equal(cgi.status, 404)
    t.equal(cgi.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').length, 2)
    t.ok(conn.isOpen, 'connection still open after two requests')
  })

  t.test('the php-cgi process is stopped by pid at teardown', async (t) => {
    let pid = 0
    await t.test('start', async (t) => {
      const php = await startPhpCgi(t, { children: 2 })
      pid = php.pid
      t.ok(pid > 0)
    })
    let alive = true
    try { process.kill(pid, 0) } catch { alive = false }
    t.notOk(alive, `php-cgi ${pid} is gone`)
  })
}
