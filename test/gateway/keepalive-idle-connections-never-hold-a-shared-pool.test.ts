// One php-fpm pool (pm = static, 2 workers) shared by three clients: gateway A (this
// process), gateway B (a second process) and lighttpd. Each kept connection pins a worker, so
// under the old policy (idle connections kept for keepAliveTimeout) A's burst left both
// workers sitting on A's idle connections for 30 s, and B and lighttpd waited that long. Now
// idle connections linger briefly after the last request (keepAliveLinger), so B and
// lighttpd are served with timeouts far below A's keepAliveTimeout. Under continuous load A
// still reuses its connections.
import t from 'tap'
import Fastify from 'fastify'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { hasLighttpd, startLighttpd } from '../helpers/lighttpd'
import { spawnTracked } from '../helpers/proc'
import { request } from '../helpers/http'

const KEEP_ALIVE_TIMEOUT = 30_000
/** What B and lighttpd's clients allow: a fifteenth of A's keepAliveTimeout. */
const OTHERS_TIMEOUT = 2000
const CHILD_GATEWAY = join(__dirname, '..', 'hardening', 'fixtures', 'netns-gateway.ts')

// count this process's connections to the pool (the client opens them with net.connect)
let fpmPath = ''
let connectsFromA = 0
const realConnect = net.connect
;(net as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]) {
  const first = args[0] as { path?: string } | undefined
  if (typeof first === 'object' && first !== null && first.path === fpmPath) connectsFromA++
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args)
}
t.teardown(() => { (net as { connect: unknown }).connect = realConnect })

t.test('after a burst from gateway A, gateway B and lighttpd are served at once', { skip: (!hasPhpFpm() && 'php-fpm missing') || (!hasLighttpd() && 'lighttpd missing') }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  if (fpm.address.kind !== 'unix') throw new Error('expected a unix socket')
  fpmPath = fpm.address.path
  const shared = { socket: fpm.address.path, keepAlive: true, keepAliveTimeout: KEEP_ALIVE_TIMEOUT }

  const appA = Fastify()
  t.teardown(() => appA.close())
  await appA.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...shared, readTimeout: 60_000 }] } })
  await appA.listen({ host: '127.0.0.1', port: 0 })
  const baseA = `http://127.0.0.1:${(appA.server.address() as { port: number }).port}`

  const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps')
  const gatewayB = spawnTracked(t, [process.execPath, ...loader, CHILD_GATEWAY], {
    cwd: PHP_FIXTURES, // its documentRoot
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      FFCGI_GATEWAY: JSON.stringify({ listenHost: '127.0.0.1', server: { '.php': [{ ...shared, connectTimeout: OTHERS_TIMEOUT, readTimeout: OTHERS_TIMEOUT }] } })
    }
  })
  let portB = 0
  for (let i = 0; i < 600 && portB === 0 && !gatewayB.hasExited(); i++) {
    const m = /\{"port":(\d+)\}/.exec(gatewayB.output())
    if (m !== null) portB = Number(m[1])
    else await sleep(100)
  }
  t.ok(portB > 0, 'gateway B (a second process) is listening')
  if (portB === 0) { t.comment(gatewayB.output()); return }
  const baseB = `http://127.0.0.1:${portB}`

  const lighttpd = await startLighttpd(t, { documentRoot: PHP_FIXTURES, fastcgiServer: { '.php': [{ socket: fpm.address.path }] } })

  // continuous load on A from 2 clients (the pool's size): kept connections are reused
  connectsFromA = 0
  const loop = async (n: number): Promise<string[]> => {
    const statuses: string[] = []
    for (let i = 0; i < n; i++) statuses.push(String((await request(`${baseA}/pid.php`, { timeoutMs: 30_000 })).status))
    return statuses
  }
  const loads = await Promise.all([loop(100), loop(100)])
  t.same(loads.flat().filter((s) => s !== '200'), [], 'continuous load on A: all 200')
  // a machine that stalls a loop past the 100 ms linger costs a connection; half the requests reusing one still proves the reuse
  t.ok(connectsFromA < 100, `continuous load on A reused kept connections (${connectsFromA} connections for 200 requests)`)

  for (let round = 0; round < 3; round++) {
    // a burst on A: more requests than workers, each holding its worker for 50 ms
    const burst = await Promise.all(Array.from({ length: 6 }, async () => (await request(`${baseA}/slow.php?ms=50`, { timeoutMs: 30_000 })).status))
    t.same(burst, [200, 200, 200, 200, 200, 200], `round ${round}: A's burst served`)
    // right after it, the other clients of the pool, each allowed OTHERS_TIMEOUT; under the old
    // policy both workers sat on A's idle connections for KEEP_ALIVE_TIMEOUT
    const [fromB, fromLighttpd] = await Promise.all([
      request(`${baseB}/pid.php`, { timeoutMs: OTHERS_TIMEOUT * 2 }).then((r) => r.status, (err: Error) => err.message),
      request(`${lighttpd.url}/pid.php`, { timeoutMs: OTHERS_TIMEOUT }).then((r) => r.status, (err: Error) => err.message)
    ])
    t.equal(fromB, 200, `round ${round}: gateway B served within its ${OTHERS_TIMEOUT} ms connect/read timeouts`)
    t.equal(fromLighttpd, 200, `round ${round}: lighttpd served within ${OTHERS_TIMEOUT} ms`)
  }
})
