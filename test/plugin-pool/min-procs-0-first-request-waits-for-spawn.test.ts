// minProcs 0: no process until the first request, which waits for the spawn (as lighttpd)
// instead of getting a 503. A burst arriving during the spawn all wait for it, and waiting
// costs the pool one listener, not one per request (a dozen requests would otherwise pile up
// listeners on the pool's emitter past Node's warning limit).
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

async function appWithoutProcesses (t: TeardownHost): Promise<FastifyInstance> {
  const dir = makeTempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { php: { binPath: findBinary('php-cgi') as string, socket: path.join(dir, 'php.sock'), minProcs: 0, maxProcs: 1 } } }
  })
  return app
}

t.test('the first request starts the process and is served', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const app = await appWithoutProcesses(t)
  t.equal(app.fastcgi.backends().filter((b) => b.pid !== null).length, 0, 'no process before the first request')
  const res = await app.inject('/hello.php')
  t.equal(res.statusCode, 200, 'served, not 503')
  t.ok(app.fastcgi.backends()[0]?.pid, 'a process runs now')
})

const BURST = 24

t.test('a burst during the spawn is served without a MaxListenersExceededWarning', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const warnings: string[] = []
  const onWarning = (warning: Error): void => { warnings.push(`${warning.name}: ${warning.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.removeListener('warning', onWarning) })
  const app = await appWithoutProcesses(t)
  const answers = await Promise.all(Array.from({ length: BURST }, async () => await app.inject('/hello.php')))
  t.same(answers.map((res) => res.statusCode), Array.from({ length: BURST }, () => 200), 'every request of the burst is served')
  // warnings are emitted on the next tick
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [], 'no listener pile-up on the pool')
})
