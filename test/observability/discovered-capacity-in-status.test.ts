// The capacity the plugin found for php-fpm as users write it (`{ socket }`: php-fpm keeps
// connections but does not report FCGI_MAX_CONNS) is on the status route: per process in JSON,
// and as fastcgi_backend_capacity / fastcgi_backend_concurrency_limit in Prometheus.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { backendOf, statusOf } from '../helpers/observability'

t.test('php-fpm with 3 children: capacity 3 on the status route', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 3 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, statusUrl: '/status', server: { '.php': { fpm: fpm.options } } })
  await app.ready()
  const capacity = (): number | null => backendOf(statusOf(app), '.php', 'fpm').processes[0]?.capacity ?? null
  // bursts of 12 at once until it is found (past the slow start, the limit holds at what was
  // found for a second before it looks for more); bounded in count and time
  const deadline = Date.now() + 15_000
  let statuses = new Set<number>()
  for (let round = 0; round < 5000 && capacity() !== 3 && Date.now() < deadline; round++) {
    const answers = await Promise.all(Array.from({ length: 12 }, async () => await app.inject('/hello.php')))
    statuses = new Set([...statuses, ...answers.map((a) => a.statusCode)])
  }
  t.same([...statuses], [200], 'every request answered')
  t.equal(capacity(), 3, 'pm.max_children found')
  const json = JSON.parse((await app.inject('/status?format=json')).body) as unknown
  t.match(json, { mappings: [{ mapping: '.php', backends: [{ backend: 'fpm', processes: [{ capacity: 3 }] }] }] }, 'in the JSON report')
  const text = (await app.inject('/status?format=prometheus')).body
  t.match(text, /^fastcgi_backend_capacity\{backend="fpm",process="0",address="[^"]+"\} 3$/m, 'in Prometheus')
  t.match(text, /^fastcgi_backend_concurrency_limit\{backend="fpm",process="0",address="[^"]+"\} [3-6]$/m, 'the limit: the capacity, one above while probing, or twice while still finding it')
  t.match(text, /^fastcgi_backend_connections_opened_total\{backend="fpm",process="0",address="[^"]+"\} [1-9][0-9]*$/m)
})
