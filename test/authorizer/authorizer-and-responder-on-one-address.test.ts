// lighttpd's tests/fastcgi-responder.conf runs an authorizer host and a responder host with the
// same bin-path and socket under one key. Both roles must work: the process at that address
// carries both entries, and each request goes out with its own entry's role. Entries on one
// address that disagree on what the address decides (its processes, its connections) fail
// register() naming both.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('php-cgi spawned once serves the authorizer and the responder entry', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-both-')
  const shared = { binPath: findBinary('php-cgi') as string, socket: join(dir, 'php.sock'), maxProcs: 1, binCopyEnvironment: ['PATH'] }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { auth: { ...shared, mode: 'authorizer' }, app: { ...shared } } }
  })
  await app.ready()
  t.equal(app.fastcgi.backends().length, 1, 'one process serves both entries')

  const approved = await app.inject({ url: '/both-roles.php?token=open' })
  t.equal(approved.statusCode, 200, 'an approved request reaches the responder role')
  t.equal(approved.body, 'responder role; user=both-roles-user role=RESPONDER\n')

  const refused = await app.inject({ url: '/both-roles.php?token=wrong' })
  t.equal(refused.statusCode, 403)
  t.equal(refused.body, 'refused by the authorizer role\n')
})

t.test('two entries on one address with different connection options fail register()', async (t) => {
  const socket = join(makeTempDir(t, 'ffcgi-both-'), 'backend.sock')
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '.php': { auth: { socket, mode: 'authorizer', maxConcurrency: 4 } },
      '/app/': [{ socket, checkLocal: false }]
    }
  }).ready().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof Error)
  const error = err as Error & { code?: string }
  t.equal(error.code, 'FST_FASTCGI_INVALID_OPTION')
  t.match(error.message, /server\['\/app\/'\]\[0\]\.maxConcurrency/, 'names the second entry and the option')
  t.match(error.message, /server\['\.php'\]\.auth/, 'names the first entry')
})

t.test('two spawned entries on one socket with different maxProcs fail register()', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-both-')
  const shared = { binPath: '/bin/true', socket: join(dir, 'php.sock'), minProcs: 1 }
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { auth: { ...shared, mode: 'authorizer', maxProcs: 2 }, app: { ...shared, maxProcs: 1 } } }
  }).ready().then(() => undefined, (e: unknown) => e)
  const error = err as Error & { code?: string }
  t.equal(error.code, 'FST_FASTCGI_INVALID_OPTION')
  t.match(error.message, /server\['\.php'\]\.app\.maxProcs is 1, but server\['\.php'\]\.auth .* has 2/)
})
