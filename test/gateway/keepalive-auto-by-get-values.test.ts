// keepAlive 'auto' (the default): backends that answer FCGI_GET_VALUES (php-fpm) keep their
// connections. libfcgi answers only a padded one, and the multithreaded FCGX_Accept_r app of
// lighttpd's documentation would stall a request sent on a kept connection: a libfcgi
// connection is used again only once its worker answers on it while it is idle (the unit tests
// are test/client/libfcgi-reuse-only-when-read.test.ts), so a single-threaded app keeps its
// connection and the threaded one never stalls.
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

t.test('the threaded libfcgi app: every request answers', { skip: !hasLibfcgi() && 'libfcgi missing' }, async (t) => {
  const app4 = await startCApp(t, buildCApp('threaded'), { threads: 4 })
  const app = Fastify()
  t.teardown(() => app.close())
  // a request sent on a connection nobody reads would end in a 504 after this read timeout
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/t/': [{ ...app4.options, checkLocal: false, readTimeout: 5000 }] } })
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push((await app.inject(`/t/x?i=${i}`)).statusCode)
  t.same([...new Set(statuses)], [200], 'no request stalled into a 504')
})

t.test('the single-threaded libfcgi app: its connection is kept', { skip: !hasLibfcgi() && 'libfcgi missing' }, async (t) => {
  const hello = await startCApp(t, buildCApp('hello'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/h/': [{ ...hello.options, checkLocal: false }] } })
  const statuses: number[] = []
  const socketPath = (hello.address.kind === 'unix' ? hello.address.path : '')
  let started = 0
  const connects = await countConnects(socketPath, async () => {
    for (let i = 0; i < 20; i++) {
      statuses.push((await app.inject(`/h/x?i=${i}`)).statusCode)
      // the turns count from the first connection, after the probe's 500 ms of silence
      if (i === 0) started = Date.now()
    }
  })
  const turns = Math.floor((Date.now() - started) / KEEP_ALIVE_TURN)
  t.same([...new Set(statuses)], [200])
  // the probe, the first connection, and one per turn that passed
  t.ok(connects <= 3 + turns, `kept connections served 20 requests (${connects} connects, the probe included, in ${turns} turns)`)
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
