// A prefix works like lighttpd's alias.url in front of the mapping: `/php/x.php` runs
// `<documentRoot>/x.php`, SCRIPT_NAME keeps the prefix (the client's URL of the script),
// REQUEST_URI is the target as sent. Keys, index files, directory redirects, local redirects,
// authorizers and the status route all live below the prefix. Against php-fpm.
import t from 'tap'
import type { Test } from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiPluginOptions } from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'

type Server = Record<string, string>

function serverOf (body: string): Server {
  return (JSON.parse(body) as { server: Server }).server
}

async function checkMounted (t: Test, app: FastifyInstance): Promise<void> {
  const res = await app.inject({ url: '/php/env.php/extra?x=1' })
  t.equal(res.statusCode, 200)
  const server = serverOf(res.body)
  t.equal(server.SCRIPT_NAME, '/php/env.php', 'SCRIPT_NAME is the client URL of the script')
  t.equal(server.PATH_INFO, '/extra')
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'), 'the script is looked up below documentRoot without the prefix')
  t.equal(server.DOCUMENT_ROOT, PHP_FIXTURES)
  t.equal(server.REQUEST_URI, '/php/env.php/extra?x=1', 'REQUEST_URI is the target as sent')
  t.equal(server.PHP_SELF, '/php/env.php/extra')

  t.equal((await app.inject({ url: '/env.php' })).statusCode, 404, 'outside the prefix nothing is served')
  t.equal((await app.inject({ url: '/php/php/env.php' })).statusCode, 404, 'the prefix is taken off once')

  const dir = await app.inject({ url: '/php/dir/' })
  t.equal(dir.statusCode, 200)
  t.equal(dir.body, 'dir/index.php\nSCRIPT_NAME=/php/dir/index.php\nPATH_INFO=\n', 'index files below the prefix')
  const redirect = await app.inject({ url: '/php/dir?a=1' })
  t.equal(redirect.statusCode, 301)
  t.equal(redirect.headers.location, '/php/dir/?a=1', 'the directory redirect keeps the prefix')
  const bare = await app.inject({ url: '/php' })
  t.equal(bare.statusCode, 301)
  t.equal(bare.headers.location, '/php/', 'the prefix itself is addressed with its slash')
}

t.test('register(fastcgi, { prefix }) against php-fpm', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/health', async () => 'ok')
  await app.register(fastcgi, { prefix: '/php', documentRoot: PHP_FIXTURES, indexFiles: ['index.php'], statusUrl: '/status', server: { '.php': [fpm.options] } })
  await checkMounted(t, app)
  t.equal((await app.inject({ url: '/health' })).body, 'ok', "the application's routes stay where they are")
  const status = await app.inject({ url: '/php/status' })
  t.equal(status.statusCode, 200, 'the status route is below the prefix')
  t.match(status.body, /fastcgi_requests_total/)
  t.equal((await app.inject({ url: '/status' })).statusCode, 404)
})

t.test('a prefix of the enclosing context (autoload folders, fastify-cli --prefix) against php-fpm', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async (scope) => {
    await scope.register(fastcgi, { documentRoot: PHP_FIXTURES, indexFiles: ['index.php'], server: { '.php': [fpm.options] } })
  }, { prefix: '/php' })
  await checkMounted(t, app)
})

t.test('prefix keys, authorizers and local redirects are below the prefix', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t)
  const redirector = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const target = req.param('QUERY_STRING') === 'outside' ? '/hello.php' : '/php/env.php/pi?from=redirect'
      await conn.respond(`Location: ${target}\r\n\r\n`, req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  const options: FastcgiPluginOptions & { prefix: string } = {
    prefix: '/php/',
    documentRoot: PHP_FIXTURES,
    server: {
      '/go': [{ ...redirector.options, checkLocal: false }],
      '/auth/': [{ ...fpm.options, mode: 'authorizer', checkLocal: false }],
      '.php': [fpm.options]
    }
  }
  await app.register(fastcgi, options)
  app.get('/auth/open', async () => 'not guarded: outside the prefix')
  app.get('/php/auth/deny-403.php', async () => 'must not be reached')

  const go = await app.inject({ url: '/php/go' })
  t.equal(go.statusCode, 200, 'a Location inside the prefix is served internally')
  const server = serverOf(go.body)
  t.equal(server.SCRIPT_NAME, '/php/env.php')
  t.equal(server.PATH_INFO, '/pi')
  t.equal(server.QUERY_STRING, 'from=redirect')

  const outside = await app.inject({ url: '/php/go?outside' })
  t.equal(outside.statusCode, 302, 'a Location outside the prefix is not ours: the client follows it')
  t.equal(outside.headers.location, '/hello.php')

  const denied = await app.inject({ url: '/php/auth/deny-403.php' })
  t.equal(denied.statusCode, 403, 'the authorizer key /auth/ guards /php/auth/')
  t.match(denied.body, /uri=\/php\/auth\/deny-403\.php/)
  const upper = await app.inject({ url: '/php/auth/%64eny-403.php' })
  t.equal(upper.statusCode, 403, 'an encoded form of a guarded path is guarded too')
  const open = await app.inject({ url: '/auth/open' })
  t.equal(open.statusCode, 200, 'the key does not guard the same path outside the prefix')
  t.equal(open.body, 'not guarded: outside the prefix')
})

t.test('a prefix with a route parameter fails register()', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(fastcgi, { prefix: '/:site', documentRoot: PHP_FIXTURES, server: { '.php': [{ host: '127.0.0.1', port: 9 }] } }) }, { code: 'FST_FASTCGI_INVALID_OPTION', message: /prefix "\/:site"/ })
})
