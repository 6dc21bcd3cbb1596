// Logs: a multi-line PHP error on FCGI_STDERR is one log record (php-cgi sends the three
// error_log() lines as separate records), and each request has one info line after the
// response naming the backend and the time it took.
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { StderrLog, STDERR_BOUND } from '../../plugin/fastify/stderr-log'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { captureLogs } from '../helpers/logs'
import { eventually } from '../helpers/observability'

const skip = !hasPhpCgi() && 'php-cgi missing'
const WARN = 40
const INFO = 30

t.test('a three-line PHP error is one log record with all three lines', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: path.join(__dirname, 'php'), server: { '.php': { php: php.options } } })
  const res = await app.inject('/three-lines.php')
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'done\n')
  const stderr = logs.lines.filter((l) => String(l.msg).startsWith('FastCGI-stderr'))
  t.equal(stderr.length, 1, 'one record')
  t.equal(stderr[0]?.msg, 'FastCGI-stderr: PHP Warning:  first line of the error\nStack trace:\n#0 {main}')
  t.equal(stderr[0]?.level, WARN)
  t.match(String(stderr[0]?.backend), /^php /, 'naming the backend')
  t.ok(stderr[0]?.reqId !== undefined, 'through the request logger')
})

t.test('one info line per request with backend and duration, after the response', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { php: php.options } } })
  t.equal((await app.inject('/hello.php')).statusCode, 200)
  t.equal((await app.inject('/status.php?status=404')).statusCode, 404)
  const done = (): Array<Record<string, unknown>> => logs.lines.filter((l) => l.msg === 'FastCGI request completed')
  t.ok(await eventually(() => done().length === 2), 'one line per request')
  const [first, second] = done()
  t.match(first, { level: INFO, backend: 'php', statusCode: 200, attempts: 1 })
  t.match(second, { level: INFO, backend: 'php', statusCode: 404 })
  for (const line of [first, second]) {
    t.type(line?.durationMs, 'number')
    t.ok(Number(line?.durationMs) >= 0)
    t.type(line?.firstByteMs, 'number')
    t.ok(line?.reqId !== undefined, 'through the request logger')
  }
  t.not(first?.reqId, second?.reqId)
})

t.test('StderrLog: held per request, cut at line boundaries past the bound', async (t) => {
  const records: string[] = []
  const log = new StderrLog({ warn: (_obj, msg) => { records.push(msg) } }, 'b')
  log.push(Buffer.from('one\ntw'))
  log.push(Buffer.from('o\r\n'))
  t.same(records, [], 'nothing before the end of the request')
  log.flush()
  t.same(records, ['FastCGI-stderr: one\ntwo'])
  log.flush()
  t.equal(records.length, 1, 'flush is idempotent')

  records.length = 0
  const line = 'x'.repeat(1000) + '\n'
  const lines = Math.ceil(STDERR_BOUND / line.length) + 2
  for (let i = 0; i < lines; i++) log.push(Buffer.from(line))
  log.push(Buffer.from('tail without newline'))
  t.equal(records.length, 1, 'the bound flushed the complete lines once')
  log.flush()
  const all = records.join('\n').split('\n').map((l) => l.replace(/^FastCGI-stderr: /, ''))
  t.equal(all.filter((l) => l === 'x'.repeat(1000)).length, lines, 'no line lost or split')
  t.equal(all[all.length - 1], 'tail without newline')

  records.length = 0
  const euro = Buffer.from('€\n')
  log.push(euro.subarray(0, 1))
  log.push(euro.subarray(1))
  log.flush()
  t.same(records, ['FastCGI-stderr: €'], 'a character split over records survives')
})
