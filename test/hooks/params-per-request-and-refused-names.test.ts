// Per-request params: a host's `params(request)` and reply.fastcgi({ params }) reach PHP after
// the computed variables; names the gateway sets (HTTP_* from the request headers, HTTP_PROXY,
// the request line, script location, REMOTE_USER, ...) and names that are not CGI names are
// refused with FST_FASTCGI_INVALID_PARAMS instead of overriding or being renamed.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import fastcgi from '../../plugin'
import { InvalidOptionError } from '../../plugin/errors'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

type Env = { server: Record<string, string> }

t.test('params of a mapping and of reply.fastcgi reach PHP; gateway names are refused', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  let mappingParams: Record<string, string> = {}
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '.php': [{
        ...php.options,
        params: (request: FastifyRequest) => ({ APP_TENANT: request.hostname.split('.')[0] ?? '', APP_SOURCE: 'mapping', ...mappingParams })
      }]
    }
  })
  let replyParams: Record<string, string> = {}
  app.get('/api/env', async (_request, reply) => await reply.fastcgi({ mapping: '.php', scriptFilename: join(PHP_FIXTURES, 'env.php'), params: replyParams }))

  const viaRoute = await app.inject({ url: '/env.php', headers: { host: 'acme.example' } })
  t.equal(viaRoute.statusCode, 200)
  t.equal((viaRoute.json() as Env).server.APP_TENANT, 'acme', "the mapping's params(request) on the plugin's route")
  t.equal((viaRoute.json() as Env).server.HTTP_HOST, 'acme.example')

  replyParams = { APP_SOURCE: 'reply', APP_ROLE: 'admin' }
  const viaReply = await app.inject({ url: '/api/env', headers: { host: 'beta.example' } })
  t.equal(viaReply.statusCode, 200)
  const env = (viaReply.json() as Env).server
  t.equal(env.APP_TENANT, 'beta', 'the mapping params apply to reply.fastcgi too')
  t.equal(env.APP_ROLE, 'admin')
  t.equal(env.APP_SOURCE, 'reply', 'reply.fastcgi params come after the mapping params')

  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ HTTP_HOST: 'evil.example' }, /HTTP_HOST is set by the gateway from the request headers/],
    [{ HTTP_PROXY: 'http://evil:1' }, /HTTP_PROXY is set by the gateway/],
    [{ SCRIPT_FILENAME: '/etc/passwd' }, /SCRIPT_FILENAME is set by the gateway/],
    [{ REMOTE_ADDR: '10.0.0.1' }, /REMOTE_ADDR is set by the gateway/],
    [{ REMOTE_USER: 'root' }, /REMOTE_USER comes from the remoteUser option/],
    [{ 'app-tenant': 'x' }, /"app-tenant" is not a CGI variable name.*"APP_TENANT"/],
    [{ 'A=B': 'x' }, /"A=B" is not a CGI variable name/]
  ]
  for (const [params, message] of refused) {
    replyParams = params
    const res = await app.inject({ url: '/api/env', headers: { host: 'beta.example' } })
    t.equal(res.statusCode, 500, `reply.fastcgi params ${Object.keys(params)[0] as string}: 500`)
    t.equal(res.json().code, 'FST_FASTCGI_INVALID_PARAMS')
    t.match(res.json().message, message)
  }
  replyParams = {}

  mappingParams = { HTTP_HOST: 'evil.example' }
  const badMapping = await app.inject({ url: '/env.php', headers: { host: 'acme.example' } })
  t.equal(badMapping.statusCode, 500, "the mapping's params are refused the same way")
  t.equal(badMapping.json().code, 'FST_FASTCGI_INVALID_PARAMS')
  t.match(badMapping.json().message, /server\['\.php'\]\[0\]\.params\(request\)\.HTTP_HOST is set by the gateway/)
  mappingParams = {}

  const after = await app.inject({ url: '/env.php', headers: { host: 'acme.example' } })
  t.equal(after.statusCode, 200, 'the server keeps serving')
  t.equal((after.json() as Env).server.HTTP_HOST, 'acme.example')
})

t.test('a host params that is not a function fails register() naming it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ socket: '/nonexistent/php.sock', params: { A: 'b' } as unknown as () => Record<string, string> }] } })
    .ready().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof InvalidOptionError)
  t.match(String(err), /server\['\.php'\]\[0\]\.params must be a function/)
})
