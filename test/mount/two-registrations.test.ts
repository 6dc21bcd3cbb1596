// The plugin registered twice in one context: per prefix (php-cgi spawned by the plugin and
// php-fpm) and per virtual host (constraints). One fastify.fastcgi covers both registrations;
// reply.fastcgi() takes the registration the request is under; close() stops each one's backends.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi, hasPhpFpm, startPhpCgi, startPhpFpm } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

type Server = Record<string, string>

function serverOf (body: string): Server {
  return (JSON.parse(body) as { server: Server }).server
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('two prefixes in one context share fastify.fastcgi', { skip: (!hasPhpCgi() || !hasPhpFpm()) && 'php-cgi or php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { extraPoolConfig: 'env[BACKEND] = b' })
  const dir = makeTempDir(t, 'ffcgi-two-')
  const app = Fastify()
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })
  await app.register(fastcgi, {
    prefix: '/a',
    documentRoot: PHP_FIXTURES,
    statusUrl: '/status',
    server: { '.php': { php: { binPath: findBinary('php-cgi') as string, socket: join(dir, 'a.sock'), maxProcs: 1, binEnvironment: { BACKEND: 'a' } } } }
  })
  await app.register(fastcgi, { prefix: '/b', documentRoot: PHP_FIXTURES, server: { '.php': { fpm: fpm.options } } })
  app.get('/b/custom', async (_request, reply) => reply.fastcgi({ scriptFilename: join(PHP_FIXTURES, 'env.php') }))

  for (const name of ['a', 'b']) {
    const res = await app.inject({ url: `/${name}/env.php` })
    t.equal(res.statusCode, 200, name)
    const server = serverOf(res.body)
    t.equal(server.BACKEND, name, `/${name}/ reached its own backend`)
    t.equal(server.SCRIPT_NAME, `/${name}/env.php`)
  }
  const custom = await app.inject({ url: '/b/custom' })
  t.equal(custom.statusCode, 200)
  t.equal(serverOf(custom.body).BACKEND, 'b', 'reply.fastcgi() takes the registration of the prefix')
  t.equal(serverOf(custom.body).SCRIPT_NAME, '/b/custom')

  const names = app.fastcgi.backends().map((b) => b.name).sort()
  t.same(names, ['fpm', 'php'], 'backends() lists both registrations')
  t.equal(app.fastcgi.stats()['fastcgi.requests'], 3, 'stats() adds up both registrations')
  const text = app.fastcgi.prometheus()
  t.equal(text.split('\n').filter((l) => l === '# TYPE fastcgi_requests_total counter').length, 1, 'one family per metric')
  t.match(text, /fastcgi_requests_total\{registration="\/a#0"\} 1/)
  t.match(text, /fastcgi_requests_total\{registration="\/b#1"\} 2/)
  t.match(text, /fastcgi_backend_load\{registration="\/b#1",backend="fpm",/)
  const status = await app.inject({ url: '/a/status' })
  t.equal(status.statusCode, 200)
  t.match(status.body, /registration="\/b#1"/, 'the status route shows every registration')

  const spawned = app.fastcgi.backends().find((b) => b.name === 'php')?.pid
  t.type(spawned, 'number')
  closed = true
  await app.close()
  const deadline = Date.now() + 10_000
  while (alive(spawned as number) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(alive(spawned as number), 'close() stopped the first registration\'s php-cgi')
})

t.test('two virtual hosts in one context, an authorizer on one of them', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const [a, b] = await Promise.all([startPhpCgi(t, { env: { BACKEND: 'a' } }), startPhpCgi(t, { env: { BACKEND: 'b' } })])
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    constraints: { host: 'a.example' },
    server: { '/auth/': [{ ...a.options, mode: 'authorizer' }], '.php': [a.options] }
  })
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, constraints: { host: 'b.example' }, server: { '.php': [b.options] } })

  for (const host of ['a.example', 'b.example']) {
    const res = await app.inject({ url: '/env.php', headers: { host } })
    t.equal(res.statusCode, 200, host)
    t.equal(serverOf(res.body).BACKEND, host[0], `${host} reached its own backend`)
  }
  // deny-403.php refuses in either role and says which role it ran in
  const guarded = await app.inject({ url: '/auth/deny-403.php', headers: { host: 'a.example' } })
  t.equal(guarded.statusCode, 403)
  t.match(guarded.body, /role=AUTHORIZER/, "a.example's authorizer guards it")
  const other = await app.inject({ url: '/auth/deny-403.php', headers: { host: 'b.example' } })
  t.match(other.body, /role=RESPONDER/, "a.example's authorizer does not guard b.example: b's responder ran the script")
  t.equal((await app.inject({ url: '/env.php', headers: { host: 'c.example' } })).statusCode, 404)
})

t.test('a fastify.fastcgi that is not ours fails register() with our error', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.decorate('fastcgi', { something: 'else' } as never)
  await t.rejects(async () => { await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ host: '127.0.0.1', port: 9 }] } }) }, { code: 'FST_FASTCGI_DECORATOR_TAKEN' })
})
