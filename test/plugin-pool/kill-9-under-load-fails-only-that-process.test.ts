// Issue 3: kill -9 a spawned php-cgi under steady load through the gateway. Only requests on
// that process may fail, none hangs, the process serves again, and `died` counts it.
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { request } from '../helpers/http'

t.test('kill -9 of one spawned php-cgi under load', { skip: !hasPhpCgi() && 'php-cgi missing', timeout: 120_000 }, async (t) => {
  const dir = makeTempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '.php': {
        php: {
          binPath: findBinary('php-cgi') as string,
          socket: path.join(dir, 'php.sock'),
          maxProcs: 2,
          binEnvironment: { PHP_FCGI_CHILDREN: '1' },
          // kept connections to a killed master would only add noise to the count
          keepAlive: false
        }
      }
    }
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const victim = app.fastcgi.backends().find((b) => b.id === 0)
  t.ok(victim?.pid, 'process 0 has a pid')

  const statuses: number[] = []
  let stop = false
  const worker = async (): Promise<void> => {
    // bounded: at most 400 requests per worker, and the loop ends when `stop` is set
    for (let i = 0; i < 400 && !stop; i++) {
      const res = await request(`${base}/hello.php`, { timeoutMs: 10_000, allowAbort: true })
      statuses.push(res.aborted ? 0 : res.status)
    }
  }
  const workers = [worker(), worker(), worker(), worker()]
  // a loaded machine answers slowly: count answers, not milliseconds (bounded polls)
  const answered = async (count: number): Promise<void> => {
    for (let i = 0; i < 600 && statuses.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await answered(12)
  process.kill(victim?.pid as number, 'SIGKILL')
  // wait (bounded) until process 0 has a new pid and is running again
  let respawned = false
  for (let i = 0; i < 100 && !respawned; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const now = app.fastcgi.backends().find((b) => b.id === 0)
    respawned = now !== undefined && now.pid !== null && now.pid !== victim?.pid && now.state === 'running'
  }
  // and some more after the respawn, so that the count spans the kill
  await answered(statuses.length + 12)
  stop = true
  await Promise.all(workers)

  t.ok(respawned, 'process 0 was respawned and is running')
  const ok = statuses.filter((s) => s === 200).length
  const failed = statuses.length - ok
  t.ok(statuses.length > 20, `requests were made during the kill (${statuses.length})`)
  t.ok(failed <= 4, `only requests in flight on the killed process failed (${failed} of ${statuses.length})`)
  t.ok(statuses.every((s) => s === 200 || s === 502 || s === 503 || s === 0), 'failures are 502/503 or aborts, never a hang')
  const after = await request(`${base}/hello.php`)
  t.equal(after.status, 200, 'serves after the respawn')
  const died = app.fastcgi.stats()['fastcgi.backend.php.0.died'] ?? 0
  t.ok(died >= 1, `died counts the kill (${died})`)
})
