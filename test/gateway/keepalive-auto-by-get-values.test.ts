// keepAlive 'auto' (the default): kept connections only for backends that answer
// FCGI_GET_VALUES. The multithreaded FCGX_Accept_r app of lighttpd's documentation (libfcgi,
// which does not answer) stalls on a kept connection; php-fpm (which answers) keeps them.
import t from 'tap'
import net from 'node:net'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { KEEP_ALIVE_TURN } from '../../plugin/client/backend-client'

/** Counts connections the process opens to `path` while `run` runs. */
async function countConnects (path: string, run: () => Promise<void>): Promise<number> {
  const original = net.connect
  let count = 0
  const counting = ((...args: Parameters<typeof net.connect>) => {
    const first = args[0]
    if (typeof first === 'object' && first !== null && (first as { path?: unknown }).path === path) count++
    return original(...args)
  }) as typeof net.connect
  net.connect = counting
  try {
    await run()
  } finally {
    net.connect = original
  }
  return count
}

t.test('the threaded libfcgi app: every request answers, one connection each', { skip: !hasLibfcgi() && 'libfcgi missing' }, async (t) => {
  const app4 = await startCApp(t, buildCApp('threaded'), { threads: 4 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/t/': [{ ...app4.options, checkLocal: false, readTimeout: 5000 }] } })
  const statuses: number[] = []
  const socketPath = (app4.address.kind === 'unix' ? app4.address.path : '')
  const connects = await countConnects(socketPath, async () => {
    for (let i = 0; i < 20; i++) statuses.push((await app.inject(`/t/x?i=${i}`)).statusCode)
  })
  t.same([...new Set(statuses)], [200], 'no request stalled into a 504')
  t.ok(connects >= 20, `a connection per request (${connects} for 20, the probe included)`)
})

t.test('php-fpm answers FCGI_GET_VALUES: connections are kept', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [fpm.options] } })
  const statuses: number[] = []
  const socketPath = (fpm.address.kind === 'unix' ? fpm.address.path : '')
  const started = Date.now()
  const connects = await countConnects(socketPath, async () => {
    for (let i = 0; i < 20; i++) statuses.push((await app.inject('/hello.php')).statusCode)
  })
  // a kept connection also ends after each KEEP_ALIVE_TURN (a slow machine may see a few)
  const turns = Math.floor((Date.now() - started) / KEEP_ALIVE_TURN)
  t.same([...new Set(statuses)], [200])
  t.ok(connects <= 3 + turns, `kept connections served 20 requests (${connects} connects, the probe included, in ${turns} turns)`)
})
