// With no maxConcurrency configured and keepAlive 'auto', the cap is what the backend reports
// as FCGI_MAX_CONNS (php-cgi reports its PHP_FCGI_CHILDREN), else what it is seen to serve. Requests beyond it wait in the
// gateway's queue instead of in the backend's accept queue, so their read timeout only starts
// once the backend has them.
import t from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { startFaultServer } from '../helpers/fault-server'
import type { FaultServer } from '../helpers/fault-server'

/** Answers "ok" after 100 ms, so that requests sent at once overlap at the backend. */
const slowOk = {
  onRequest: async (req: { requestId: number }, conn: { stall: (ms: number) => Promise<void>, respond: (data: string, id: number) => Promise<void> }) => {
    await conn.stall(100)
    await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
  }
}

/** The most connections the backend had open at once (connections are closed and reopened). */
function trackMostOpen (backend: FaultServer): () => number {
  let most = 0
  backend.on('connection', () => { most = Math.max(most, backend.openConnections) })
  return () => most
}

t.test('php-cgi with 2 children: 6 slow requests all within a read timeout shorter than their wait', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  // each request takes 600 ms; the last pair waits 1.2 s for a child, longer than readTimeout
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, readTimeout: 1000 }] } })
  t.equal((await app.inject('/slow.php?ms=1')).statusCode, 200, 'the first request settles the probe')
  const replies = await Promise.all(Array.from({ length: 6 }, () => app.inject('/slow.php?ms=600')))
  t.same(replies.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200], 'queued in the gateway, not timed out in the backlog')
})

/** Eight requests at once to a backend answering FCGI_GET_VALUES with `values`: the most connections it had open at once. */
async function mostOpenForEight (t: Test, values: Record<string, string>, host: Record<string, unknown> = {}): Promise<number> {
  const backend = await startFaultServer(t, { ...slowOk, values })
  const mostOpen = trackMostOpen(backend)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, ...host }] } })
  const replies = await Promise.all(Array.from({ length: 8 }, () => app.inject('/app')))
  for (const reply of replies) t.equal(reply.body, 'ok\n')
  return mostOpen()
}

t.test('FCGI_MAX_CONNS 2: eight requests at once, never more than two connections', async (t) => {
  t.equal(await mostOpenForEight(t, { FCGI_MAX_CONNS: '2', FCGI_MPXS_CONNS: '0' }), 2)
})

t.test('no FCGI_MAX_CONNS in the answer: a discovered limit, every request answered', async (t) => {
  // the limit starts at two and doubles while the backend serves all it gets at once; how far
  // it gets within these eight depends on timing, so the rule itself is tested in
  // test/client/capacity-discovery*.test.ts and test/client/concurrency-limit.test.ts
  const mostOpen = await mostOpenForEight(t, { FCGI_MPXS_CONNS: '0' })
  t.ok(mostOpen >= 2 && mostOpen <= 8, `at most ${mostOpen} connections at once: at least the first two, never more than the requests`)
})

t.test('a configured maxConcurrency wins over the reported one', async (t) => {
  t.equal(await mostOpenForEight(t, { FCGI_MAX_CONNS: '2' }, { maxConcurrency: 4 }), 4)
})
