// Kept connections to php-fpm (pm static, 2 children, pm.max_requests 3): workers are
// recycled every 3 requests, closing the connections we keep; the gateway reuses what it can
// and retries a stale kept connection on a fresh one, so no client ever sees an error.
// With keepAlive: false every request has its own connection and works too.
import t from 'tap'
import Fastify from 'fastify'
import net from 'node:net'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { request } from '../helpers/http'

// count the gateway's connections to the backend (the client opens them with net.connect)
const fpmSockets = new Set<string>()
let backendConnects = 0
const realConnect = net.connect
;(net as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]) {
  const first = args[0] as { path?: string } | undefined
  if (typeof first === 'object' && first !== null && first.path !== undefined && fpmSockets.has(first.path)) backendConnects++
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args)
}
t.teardown(() => { (net as { connect: unknown }).connect = realConnect })

for (const keepAlive of [true, false]) {
  t.test(`php-fpm pm.max_requests=3, keepAlive: ${keepAlive}: 50 sequential + 50 concurrent, no client error`, { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
    const fpm = await startPhpFpm(t, { children: 2, maxRequests: 3 })
    if (fpm.address.kind === 'unix') fpmSockets.add(fpm.address.path)
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...fpm.options, keepAlive }] } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    // counted from here: the start-up check at ready asked the backend once on a connection of its own
    backendConnects = 0
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

    const failures: string[] = []
    const pids = new Set<string>()
    const one = async (i: number): Promise<void> => {
      try {
        const res = await request(`${base}/pid.php?i=${i}`, { timeoutMs: 30_000 })
        if (res.status !== 200) failures.push(`#${i}: status ${res.status}`)
        else pids.add(res.body.toString().trim())
      } catch (err) {
        failures.push(`#${i}: ${(err as Error).message}`)
      }
    }
    for (let i = 0; i < 50; i++) await one(i)
    t.same(failures, [], 'sequential: no client error')
    // 50 requests served by 2 workers recycled every 3 requests: many worker pids
    t.ok(pids.size >= 10, `workers were recycled (${pids.size} pids seen)`)

    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 5 }, async (_, j) => await one(50 + batch * 5 + j)))
    }
    t.same(failures, [], 'concurrent in batches of 5: no client error')
    t.ok(pids.size >= 20, `more recycling (${pids.size} pids seen)`)

    if (keepAlive) {
      t.ok(backendConnects < 100, `kept connections were reused (${backendConnects} connections for 100 requests)`)
    } else {
      t.equal(backendConnects, 100, 'one connection per request')
    }
    const client = app.fastcgi.backends()
    t.equal(client.length, 1)
    t.equal(client[0]?.load, 0, 'nothing left in flight')
  })
}
