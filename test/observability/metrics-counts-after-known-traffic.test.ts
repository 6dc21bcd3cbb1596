// After known traffic to a real php-cgi, the request metrics are what they must be: requests by
// status class, latency histograms whose buckets add up to their count, retries, aborts,
// timeouts, queue wait and respawns; the Prometheus text says the same as the JSON.
import t from 'tap'
import type { Test } from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import type { HistogramReport } from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { requestStream } from '../helpers/http'
import { backendOf, eventually, samples, statusOf } from '../helpers/observability'
import { startFaultServer } from '../helpers/fault-server'

const skip = !hasPhpCgi() && 'php-cgi missing'

function checkHistogram (t: Test, h: HistogramReport, count: number, what: string): void {
  t.equal(h.count, count, `${what}: count`)
  const last = h.buckets[h.buckets.length - 1]
  t.same(last, { le: '+Inf', count }, `${what}: the +Inf bucket holds every observation`)
  for (let i = 1; i < h.buckets.length; i++) {
    t.ok((h.buckets[i]?.count ?? 0) >= (h.buckets[i - 1]?.count ?? 0), `${what}: cumulative`, { diagnostic: false })
  }
  t.ok(h.sumSeconds >= 0, `${what}: sum`)
}

t.test('status classes, histograms and the Prometheus text after 11 requests', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { 'php"main\\': php.options } } })
  const urls = [
    ...Array.from({ length: 5 }, () => '/hello.php'),
    ...Array.from({ length: 3 }, () => '/status.php?status=404'),
    ...Array.from({ length: 2 }, () => '/status.php?status=503'),
    '/status.php?status=302&location=http://elsewhere.example/'
  ]
  const codes: number[] = []
  for (const url of urls) codes.push((await app.inject(url)).statusCode)
  t.same(codes, [200, 200, 200, 200, 200, 404, 404, 404, 503, 503, 302], 'the backend answered as asked')

  const label = 'php"main\\'
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', label).requests === 11), 'all 11 requests ended')
  const b = backendOf(statusOf(app), '.php', label)
  t.same(b.responses, { '1xx': 0, '2xx': 5, '3xx': 1, '4xx': 3, '5xx': 2 })
  t.equal(b.aborts, 0)
  t.equal(b.retries, 0)
  t.same(b.timeouts, { connect: 0, read: 0, write: 0, queue: 0, send: 0 })
  t.equal(b.queueDepth, 0)
  checkHistogram(t, b.firstByte, 11, 'first byte')
  checkHistogram(t, b.total, 11, 'total')
  checkHistogram(t, b.queueWait, 0, 'queue wait')
  t.ok(b.total.sumSeconds >= b.firstByte.sumSeconds, 'a request takes at least as long as its first byte')

  const text = app.fastcgi.prometheus()
  const s = samples(text)
  const base = 'mapping=".php",backend="php\\"main\\\\"'
  t.equal(s.get(`fastcgi_responses_total{${base},status_class="2xx"}`), 5, 'label values escaped (quote, backslash)')
  t.equal(s.get(`fastcgi_responses_total{${base},status_class="4xx"}`), 3)
  t.equal(s.get(`fastcgi_responses_total{${base},status_class="5xx"}`), 2)
  t.equal(s.get(`fastcgi_request_duration_seconds_count{${base}}`), 11)
  t.equal(s.get(`fastcgi_request_duration_seconds_bucket{${base},le="+Inf"}`), 11)
  t.equal(s.get(`fastcgi_first_byte_seconds_count{${base}}`), 11)
  t.equal(s.get('fastcgi_requests_total'), 11, 'the pool family kept its name')
  // every family has HELP then TYPE before its samples, and every sample belongs to a declared family
  const declared = new Set<string>()
  const lines = text.trim().split('\n')
  lines.forEach((line, i) => {
    const help = /^# HELP (\w+) \S/.exec(line)
    if (help !== null) {
      t.equal(lines[i + 1]?.startsWith(`# TYPE ${help[1] ?? ''} `), true, `TYPE follows HELP of ${help[1] ?? ''}`, { diagnostic: false })
      declared.add(help[1] ?? '')
      return
    }
    if (line.startsWith('# TYPE')) return
    const name = /^(\w+?)(_bucket|_sum|_count)?(\{| )/.exec(line)
    t.ok(name !== null && (declared.has(name[1] ?? '') || declared.has(`${name[1] ?? ''}${name[2] ?? ''}`)), `sample of a declared family: ${line}`, { diagnostic: false })
  })
})

t.test('retries: the first backend refuses, the request goes to the second', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const deadPort = await freePort()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    // least-connection takes the first of equally loaded backends: the dead one goes first
    server: { '.php': { dead: { host: '127.0.0.1', port: deadPort, disableTime: 60_000 }, live: php.options } }
  })
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/hello.php')).statusCode, 200)
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'live').requests === 3))
  const report = statusOf(app)
  t.equal(backendOf(report, '.php', 'live').retries, 1, 'one request was retried on live')
  t.equal(backendOf(report, '.php', 'live').responses['2xx'], 3)
  t.equal(backendOf(report, '.php', 'dead').requests, 0, 'dead answered nothing')
  t.equal(backendOf(report, '.php', 'dead').firstByte.count, 0)
})

t.test('timeouts and aborts', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': { php: { ...php.options, readTimeout: 300 } } } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  t.equal((await app.inject('/slow.php?ms=3000')).statusCode, 504, 'read timeout')
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'php').requests === 1))
  let b = backendOf(statusOf(app), '.php', 'php')
  t.same(b.timeouts, { connect: 0, read: 1, write: 0, queue: 0, send: 0 })
  t.equal(b.responses['5xx'], 1)

  // a client that goes away mid-body: the script sends a first line, stalls (within readTimeout
  // between reads is not the case here, so the stall is kept short of it), the client hangs up
  const { req, res } = await requestStream(`${base}/slow.php?mid=250`)
  res.once('data', () => req.destroy())
  res.on('error', () => {})
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'php').requests === 2), 'the aborted request ended')
  b = backendOf(statusOf(app), '.php', 'php')
  t.equal(b.aborts, 1, 'counted as an abort')
  t.equal(b.responses['2xx'], 0, 'not as a response')
  checkHistogram(t, b.total, 2, 'total')
})

t.test('queue: one waits under maxConcurrency 1; depth while it waits, its wait after', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { php: { ...php.options, maxConcurrency: 1, queueLimit: 4, queueTimeout: 30_000 } } }
  })
  const first = app.inject('/slow.php?ms=800')
  t.ok(await eventually(() => (app.fastcgi.backends()[0]?.load ?? 0) === 1), 'the first is at the backend')
  const second = app.inject('/hello.php')
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'php').queueDepth === 1), 'queue depth 1 while the second waits')
  t.equal((await first).statusCode, 200)
  t.equal((await second).statusCode, 200)
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'php').requests === 2))
  const b = backendOf(statusOf(app), '.php', 'php')
  t.equal(b.queueDepth, 0)
  checkHistogram(t, b.queueWait, 1, 'queue wait')
  t.match(app.fastcgi.prometheus(), /^fastcgi_queue_wait_seconds_count\{mapping="\.php",backend="php"\} 1$/m)
})

t.test('respawns: a spawned php-cgi killed with SIGKILL is started again and counted', { skip, timeout: 60_000 }, async (t) => {
  const dir = makeTempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { php: { binPath: findBinary('php-cgi') ?? 'php-cgi', socket: path.join(dir, 'php.sock'), maxProcs: 1, binEnvironment: { PHP_FCGI_CHILDREN: '0' } } } }
  })
  t.equal((await app.inject('/hello.php')).statusCode, 200)
  t.equal(backendOf(statusOf(app), '.php', 'php').respawns, 0, 'the first spawn is no respawn')
  const pid = app.fastcgi.backends()[0]?.pid
  t.type(pid, 'number')
  process.kill(pid ?? -1, 'SIGKILL')
  t.ok(await eventually(() => {
    const b = backendOf(statusOf(app), '.php', 'php')
    return b.respawns === 1 && b.processes[0]?.state === 'running'
  }, 20_000), 'respawned once')
  t.match(app.fastcgi.prometheus(), /^fastcgi_backend_respawns_total\{backend="php",process="0",address="unix:[^"]+-0"\} 1$/m)
  t.equal((await app.inject('/hello.php')).statusCode, 200, 'serving again')
})

t.test('a local redirect is part of its request: one request, counted for the backend that answered', { skip }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const redirector = await startFaultServer(t, {
    onRequest: async (req, conn) => { await conn.respond('Location: /hello.php\r\n\r\n', req.requestId) }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '/go': { redirector: { ...redirector.options, checkLocal: false } }, '.php': { php: php.options } }
  })
  const res = await app.inject('/go')
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'hello from php\n')
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'php').requests === 1), 'one request, under the backend that answered')
  const report = statusOf(app)
  t.equal(backendOf(report, '/go', 'redirector').requests, 0, 'not a second request under the redirecting backend')
  t.equal(backendOf(report, '/go', 'redirector').firstByte.count, 1, 'whose answer came')
  t.equal(backendOf(report, '.php', 'php').retries, 0, 'a hop is no retry')
})
