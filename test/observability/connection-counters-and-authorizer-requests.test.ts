// The figures beside the request metrics: each process's connection counters (a kept connection
// sent again on a fresh one, a kept connection closed as dirty) in JSON and Prometheus, and an
// authorizer's requests counted under its own backend, apart from the responder's, also when
// both entries share one address (and its process).
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { ProtocolStatus, RecordType, encodeEndRequest, encodeRecord, encodeStream } from '../../plugin/protocol'
import { startFaultServer } from '../helpers/fault-server'
import { PHP_FIXTURES, findBinary, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { backendOf, eventually, samples, statusOf } from '../helpers/observability'

function answer (text: string, requestId: number): Buffer {
  return Buffer.concat([
    encodeStream(RecordType.STDOUT, requestId, Buffer.from(`Content-Type: text/plain\r\n\r\n${text}`)),
    encodeRecord(RecordType.STDOUT, requestId),
    encodeEndRequest(requestId, 0, ProtocolStatus.REQUEST_COMPLETE)
  ])
}

t.test('a dirty kept connection: one connection retry and one dirty close, in JSON and Prometheus', async (t) => {
  // no real backend sends a record for a request that is over: the fault server does, on the
  // kept connection, in front of the second request's answer
  const backend = await startFaultServer(t, {
    onConnection: async (conn) => {
      for (let i = 0; i < 100; i++) {
        const req = await conn.nextRequest(10_000)
        if (req === null) return
        const late = conn.index === 0 && i === 1 ? encodeRecord(RecordType.STDOUT, req.requestId - 1, Buffer.from('late\r\n')) : Buffer.alloc(0)
        await conn.write(Buffer.concat([late, answer(`answer ${i}`, req.requestId)]))
        if (!req.keepConn) { await conn.close(); return }
      }
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, statusUrl: '/status', server: { '/app': { app: { ...backend.options, checkLocal: false, keepAlive: true } } } })

  const before = backendOf(statusOf(app), '/app', 'app').processes[0]
  t.equal(before?.connectionRetries, 0, 'no retry yet')
  t.equal(before?.dirtyClosed, 0, 'no dirty close yet')
  t.equal((await app.inject('/app')).statusCode, 200)
  const second = await app.inject('/app')
  t.equal(second.statusCode, 200)
  t.equal(second.body, 'answer 0', 'the second request was answered on a fresh connection')

  t.ok(await eventually(() => backendOf(statusOf(app), '/app', 'app').processes[0]?.dirtyClosed === 1), 'the dirty connection is counted once it is closed')
  const proc = backendOf(statusOf(app), '/app', 'app').processes[0]
  t.equal(proc?.connectionRetries, 1, 'the second request was sent again once')
  const json = await app.inject({ url: '/status?format=json' })
  t.match(JSON.parse(json.body), { mappings: [{ mapping: '/app', backends: [{ backend: 'app', processes: [{ connectionRetries: 1, dirtyClosed: 1 }] }] }] }, 'the status route says the same')

  const s = samples((await app.inject({ url: '/status?format=prometheus' })).body)
  const labels = `backend="app",process="0",address="${proc?.address ?? ''}"`
  t.equal(s.get(`fastcgi_backend_connection_retries_total{${labels}}`), 1)
  t.equal(s.get(`fastcgi_backend_dirty_closed_total{${labels}}`), 1)
  t.equal(s.get('fastcgi_retries_total{mapping="/app",backend="app"}'), 0, 'a connection retry is no retry on another backend')
  const html = (await app.inject({ url: '/status?format=html' })).body
  t.match(html, /connection retries<\/th><th class="n">dirty closed<\/th>/, 'the HTML process table has both columns')
})

t.test('authorizer requests are counted under the authorizer, apart from the responder', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'deny-401.php') } })
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options } }
  })
  t.equal((await app.inject('/hello.php')).statusCode, 401, 'denied')
  const approved = await app.inject({ url: '/hello.php', headers: { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` } })
  t.equal(approved.statusCode, 200, 'approved, then answered')

  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'app').requests === 1), 'the responder request ended')
  const report = statusOf(app)
  const gateReport = backendOf(report, '.php', 'gate')
  t.equal(gateReport.requests, 2, 'both authorizer requests')
  t.same(gateReport.responses, { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 0 }, "by the authorizer's own answer")
  t.equal(gateReport.firstByte.count, 2)
  t.equal(gateReport.total.count, 2)
  const appReport = backendOf(report, '.php', 'app')
  t.same(appReport.responses, { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 0, '5xx': 0 }, 'the responder saw only the approved request')
  t.equal(samples(app.fastcgi.prometheus()).get('fastcgi_responses_total{mapping=".php",backend="gate",status_class="4xx"}'), 1)
})

t.test('an authorizer and a responder entry on one address: a row each, sharing the process', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const shared = { binPath: findBinary('php-cgi') as string, socket: join(makeTempDir(t, 'ffcgi-obs-'), 'php.sock'), maxProcs: 1, binCopyEnvironment: ['PATH'] }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { auth: { ...shared, mode: 'authorizer' }, app: { ...shared } } }
  })
  t.equal((await app.inject('/both-roles.php?token=open')).statusCode, 200)
  t.equal((await app.inject('/both-roles.php?token=wrong')).statusCode, 403)
  t.ok(await eventually(() => backendOf(statusOf(app), '.php', 'app').requests === 1), 'the responder request ended')
  const report = statusOf(app)
  const auth = backendOf(report, '.php', 'auth')
  const responder = backendOf(report, '.php', 'app')
  t.same([auth.responses['2xx'], auth.responses['4xx']], [1, 1], 'the authorizer approved one and refused one')
  t.same([responder.requests, responder.responses['2xx']], [1, 1], 'the responder answered the approved one')
  t.equal(auth.address, responder.address, 'one address')
  t.equal(auth.processes.length, 1)
  t.same(auth.processes.map((p) => p.pid), responder.processes.map((p) => p.pid), 'the same process under both')
  t.equal(report.mappings.find((m) => m.mapping === '.php')?.backends.length, 2, 'no row for a series without its address')
})
