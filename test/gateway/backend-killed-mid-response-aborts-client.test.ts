// A backend killed (SIGKILL) mid-response: the client connection is aborted, so the
// truncated body never looks complete; the gateway itself keeps serving, and once the
// backend is back its requests succeed again.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { readSlowly, request, requestStream } from '../helpers/http'

t.test('SIGKILL of php-cgi mid-response aborts the client connection', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  // children: 0 -> the process we started is the one that serves
  const php = await startPhpCgi(t, { children: 0, port: 0 })
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/alive', async () => ({ alive: true }))
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const total = 512 * 1024 * 1024
  // Content-Length announced too: a client can tell a short body either way
  const { req, res } = await requestStream(`${base}/big.php?bytes=${total}&cl=1`)
  t.equal(res.statusCode, 200)
  let killed = false
  const result = await readSlowly(req, res, {
    bytesPerStep: 1024 * 1024,
    pauseMs: 1,
    onStep: (bytes) => {
      if (!killed && bytes >= 4 * 1024 * 1024) {
        killed = true
        process.kill(php.pid, 'SIGKILL')
      }
    },
    timeoutMs: 60_000
  })
  t.ok(killed, 'the backend was killed mid-response')
  t.equal(result.complete, false, 'the client did not see a complete response')
  t.equal(result.abortedByUs, false, 'the gateway broke the connection, not the client timeout')
  t.ok(result.bytes < total, `truncated (${result.bytes} of ${total} bytes)`)
  await php.proc.exited

  const alive = await request(`${base}/alive`)
  t.equal(alive.status, 200, 'the server keeps serving its own routes')
  const down = await request(`${base}/hello.php`)
  t.equal(down.status, 503, 'with the backend gone: 503')

  const again = await startPhpCgi(t, { children: 0, port: php.address.kind === 'tcp' ? php.address.port : 0 })
  t.not(again.pid, php.pid)
  // the backend may be disabled for a while after the refused connect; wait (bounded) for it to come back
  let res2 = await request(`${base}/hello.php`)
  for (let i = 0; i < 60 && res2.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    res2 = await request(`${base}/hello.php`)
  }
  t.equal(res2.status, 200, 'the restarted backend serves through the same gateway')
  t.equal(res2.body.toString(), 'hello from php\n')
})
