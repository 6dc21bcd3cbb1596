// startupCheck: 'fail' turns the start-up check's warnings into a failed `ready` that lists each
// problem; with every backend fine, ready succeeds. The option itself is validated.
import t from 'tap'
import { createServer } from 'node:http'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'

t.test("'fail' lists every problem in one FST_FASTCGI_STARTUP_CHECK error", async (t) => {
  const dir = makeTempDir(t, 'ffcgi-startup-')
  const http = createServer((_req, res) => res.end('hello'))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  t.teardown(() => http.close())
  const address = http.address()
  const httpPort = typeof address === 'object' && address !== null ? address.port : 0
  const refusedPort = await freePort()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    startupCheck: 'fail',
    server: {
      '.php': { web: { host: '127.0.0.1', port: httpPort }, down: { host: '127.0.0.1', port: refusedPort } },
      '.php7': [{ socket: join(dir, 'missing.sock') }]
    }
  })
  const err = await app.ready().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof Error, 'ready fails')
  const error = err as Error & { code?: string }
  t.equal(error.code, 'FST_FASTCGI_STARTUP_CHECK')
  t.match(error.message, `backend 'web' (server['.php'].web) at tcp:127.0.0.1:${httpPort}: an HTTP server answers there`)
  t.match(error.message, `backend 'down' (server['.php'].down) at tcp:127.0.0.1:${refusedPort}: nothing listens`)
  t.match(error.message, `backend '.php7#0' (server['.php7'][0]) at unix:${dir}/missing.sock: the socket ${dir}/missing.sock does not exist`)
})

t.test("'fail' with a reachable php-fpm: ready succeeds and serves", { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, startupCheck: 'fail', server: { '.php': [fpm.options] } })
  await app.ready()
  t.equal((await app.inject('/hello.php')).statusCode, 200)
})

t.test('startupCheck must be warn, fail or off', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => await app.register(fastcgi, { documentRoot: PHP_FIXTURES, startupCheck: 'strict' as never, server: { '.php': [{ host: '127.0.0.1', port: 9000 }] } }).ready(),
    { code: 'FST_FASTCGI_INVALID_OPTION', message: `Invalid fastify-fastcgi option: startupCheck must be 'warn', 'fail' or 'off', got "strict"` })
})
