// FCGI_STDERR goes to the request's log at warn, naming the backend, and never fails the
// request: php-cgi's error_log() (stderr.php), and several lines from the fault server (one record).
import t from 'tap'
import Fastify from 'fastify'
import { captureLogs } from '../helpers/logs'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { startFaultServer, faults } from '../helpers/fault-server'

const WARN = 40

t.test('php-cgi error_log() is logged at warn with the backend name', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { phpbackend: php.options } } })
  const res = await app.inject({ url: '/stderr.php?msg=marker-7f3a' })
  t.equal(res.statusCode, 200, 'the request succeeds')
  t.equal(res.body, 'body after stderr\n')
  const line = logs.lines.find((l) => String(l.msg).includes('marker-7f3a'))
  t.ok(line, 'the stderr text is logged')
  t.equal(line?.level, WARN, 'at warn')
  t.match(String(line?.backend), /phpbackend/, 'naming the backend')
  t.ok(line?.reqId !== undefined, 'through the request logger')
})

t.test('several STDERR lines, logged as one record, and the answer is intact', async (t) => {
  const backend = await startFaultServer(t, { ...faults.stderrThenOk('first line\nsecond line\r\nthird line\n') })
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'ok\n')
  const stderr = logs.lines.filter((l) => String(l.msg).startsWith('FastCGI-stderr'))
  // one request's STDERR is one record (a PHP error and its stack trace stay together)
  t.same(stderr.map((l) => l.msg), ['FastCGI-stderr: first line\nsecond line\nthird line'])
  t.ok(stderr.every((l) => l.level === WARN), 'at warn')
  t.ok(stderr.every((l) => String(l.backend).includes(backend.address.kind === 'unix' ? backend.address.path : String(backend.address.port))), 'naming the backend address')
})
