// C libfcgi fixtures (built by buildCApp), the Perl FCGI app and fcgiwrap, each on fd 0.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import {
  buildCApp, startCApp, startPerlApp, startFcgiwrap, hasLibfcgi, hasPerlFcgi, hasFcgiwrap, hasSpawnFcgi, CGI_SCRIPT
} from '../helpers/libfcgi'
import { fcgiRequest, parseCgiResponse, scriptParams } from '../helpers/fcgi-client'
import { patternMd5 } from '../helpers/pattern'

const params = (uri: string, extra: Record<string, string> = {}): Record<string, string> => scriptParams('/nonexistent', uri, extra)

t.test('C fixtures', { skip: hasLibfcgi() ? false : 'gcc or libfcgi-dev missing' }, async (t) => {
  t.test('buildCApp compiles once and reuses the binary', async (t) => {
    const binary = buildCApp('hello')
    t.ok(existsSync(binary))
    const mtime = statSync(binary).mtimeMs
    t.equal(buildCApp('hello'), binary)
    t.equal(statSync(binary).mtimeMs, mtime, 'not rebuilt when up to date')
  })

  t.test('hello on a unix socket (fd 0): the default answer, a 1 MiB pattern body, the stdin md5', async (t) => {
    const app = await startCApp(t, buildCApp('hello'))
    t.equal(app.address.kind, 'unix')
    const plain = await fcgiRequest(app.address, { params: params('/hello') })
    t.equal(plain.stdout.toString(), 'Content-Type: text/plain\r\n\r\nhello\n')
    const big = parseCgiResponse((await fcgiRequest(app.address, { params: params('/hello?bytes=1048576') })).stdout)
    t.equal(big.body.length, 1048576)
    t.equal(createHash('md5').update(big.body).digest('hex'), patternMd5(1048576))
    const body = Buffer.alloc(65537, 'x')
    const md5 = parseCgiResponse((await fcgiRequest(app.address, { params: params('/hello?md5=1&pid=1'), stdin: body })).stdout)
    t.equal(md5.header('x-stdin-length'), '65537')
    t.equal(md5.header('x-stdin-md5'), createHash('md5').update(body).digest('hex'))
    t.equal(md5.header('x-pid'), String(app.pid), 'the process we started serves')
    const empty = parseCgiResponse((await fcgiRequest(app.address, { params: params('/hello?md5=1') })).stdout)
    t.equal(empty.header('x-stdin-md5'), 'd41d8cd98f00b204e9800998ecf8427e', 'md5 of nothing')
  })

  t.test('env on TCP lists every param it received', async (t) => {
    const app = await startCApp(t, buildCApp('env'), { port: 0 })
    const res = await fcgiRequest(app.address, { params: [['A_PARAM', 'one'], ['B_PARAM', 'two=2'], ['EMPTY', '']] })
    t.equal(res.stdout.toString(), 'Content-Type: text/plain\r\n\r\nA_PARAM=one\nB_PARAM=two=2\nEMPTY=\n')
  })

  t.test('threaded: concurrent requests are served by different threads of one process', async (t) => {
    const app = await startCApp(t, buildCApp('threaded'), { threads: 3 })
    const answers = await Promise.all([1, 2, 3].map(async () => parseCgiResponse((await fcgiRequest(app.address, { params: params('/login?ms=300') })).stdout)))
    t.same(answers.map((a) => a.status), [200, 200, 200])
    t.equal(new Set(answers.map((a) => a.header('x-thread'))).size, 3, 'three threads')
    t.same(new Set(answers.map((a) => a.header('x-pid'))), new Set([String(app.pid)]))
    t.match(answers[0]?.body.toString(), /<li>QUERY_STRING=ms=300<\/li>/)
  })

  t.test('hello via spawn-fcgi -n', { skip: hasSpawnFcgi() ? false : 'spawn-fcgi missing' }, async (t) => {
    const app = await startCApp(t, buildCApp('hello'), { via: 'spawn-fcgi', port: 0 })
    const res = await fcgiRequest(app.address, { params: params('/hello?pid=1') })
    t.equal(parseCgiResponse(res.stdout).header('x-pid'), String(app.pid), 'spawn-fcgi -n execs the app in place')
  })
})

t.test('the Perl FCGI app answers on fd 0', { skip: hasPerlFcgi() ? false : 'perl FCGI module missing' }, async (t) => {
  const app = await startPerlApp(t)
  const res = await fcgiRequest(app.address, { params: params('/hello.fcgi', { REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5' }), stdin: 'abcde' })
  const cgi = parseCgiResponse(res.stdout)
  t.equal(cgi.status, 200)
  t.equal(cgi.body.toString(), 'hello from perl\nREQUEST_METHOD=POST\nBODY_LENGTH=5\n')
})

t.test('fcgiwrap runs the shell CGI script', { skip: hasFcgiwrap() ? false : 'fcgiwrap missing' }, async (t) => {
  const app = await startFcgiwrap(t)
  const res = await fcgiRequest(app.address, {
    params: { ...params('/hello.cgi?q=1'), SCRIPT_FILENAME: CGI_SCRIPT }
  })
  const cgi = parseCgiResponse(res.stdout)
  t.equal(cgi.status, 200)
  t.equal(cgi.body.toString(), 'hello from cgi\nREQUEST_METHOD=GET\nQUERY_STRING=q=1\nSCRIPT_NAME=/hello.cgi\n')
})
