// REMOTE_USER and AUTH_TYPE come from the application's authentication, never from a header:
// by default from `request.user` (what @fastify/basic-auth's validate, @fastify/jwt and
// @fastify/passport leave), or from a remoteUser(request) option. An authorizer sees them too
// (lighttpd runs mod_auth before mod_fastcgi) when the user is set by an onRequest hook added
// before the plugin. PHP (php-cgi) prints what it got.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import basicAuth from '@fastify/basic-auth'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

type Env = { server: Record<string, string | undefined> }
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

declare module 'fastify' {
  interface FastifyRequest {
    user?: unknown
  }
}

t.test('request.user set by an onRequest hook: REMOTE_USER and AUTH_TYPE; headers are not trusted', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // what a bearer-token check would leave: @fastify/jwt's payload
    if (request.headers.authorization === 'Bearer good-token') request.user = { sub: 'alice', scope: 'read' }
    // a session-style user object (@fastify/passport)
    if (request.headers.cookie === 'session=bob') request.user = { id: 7, username: 'bob' }
  })
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })

  const jwt = (await app.inject({ url: '/env.php', headers: { authorization: 'Bearer good-token' } })).json() as Env
  t.equal(jwt.server.REMOTE_USER, 'alice', "a JWT payload's sub")
  t.equal(jwt.server.AUTH_TYPE, 'Bearer', 'the scheme that authenticated the user')

  const session = (await app.inject({ url: '/env.php', headers: { cookie: 'session=bob' } })).json() as Env
  t.equal(session.server.REMOTE_USER, 'bob', "a user object's username")
  t.notOk('AUTH_TYPE' in session.server, 'no Authorization scheme: no AUTH_TYPE')

  const forged = (await app.inject({ url: '/env.php', headers: { authorization: 'Bearer bad-token', 'remote-user': 'mallory', 'x-remote-user': 'mallory' } })).json() as Env
  t.notOk('REMOTE_USER' in forged.server, 'no request.user: no REMOTE_USER, whatever the headers say')
  t.notOk('AUTH_TYPE' in forged.server)
  t.equal(forged.server.HTTP_REMOTE_USER, 'mallory', 'the header stays a header')
})

t.test('@fastify/basic-auth as the routes\' onRequest, and a remoteUser option', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(basicAuth, {
    authenticate: { realm: 'php' },
    validate: async (username: string, password: string, request: FastifyRequest) => {
      if (password !== 'secret') throw new Error('wrong password')
      request.user = username
    }
  })
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] }, onRequest: app.basicAuth })

  const anonymous = await app.inject({ url: '/env.php' })
  t.equal(anonymous.statusCode, 401, '@fastify/basic-auth guards the mapping')
  t.match(anonymous.headers['www-authenticate'], /^Basic realm="php"/)
  const wrong = await app.inject({ url: '/env.php', headers: { authorization: basic('carol', 'guess') } })
  t.equal(wrong.statusCode, 401)

  const ok = await app.inject({ url: '/env.php', headers: { authorization: basic('carol', 'secret') } })
  t.equal(ok.statusCode, 200)
  const env = (ok.json() as Env).server
  t.equal(env.REMOTE_USER, 'carol')
  t.equal(env.AUTH_TYPE, 'Basic')

  const custom = Fastify()
  t.teardown(() => custom.close())
  custom.decorateRequest('account', '')
  custom.addHook('onRequest', async (request) => { if (request.headers.cookie === 'sid=1') Reflect.set(request, 'account', 'dave@example.org') })
  await custom.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [php.options] },
    remoteUser: (request) => {
      const account: unknown = Reflect.get(request, 'account')
      return typeof account === 'string' && account !== '' ? { user: account, authType: 'Cookie' } : undefined
    }
  })
  const viaOption = (await custom.inject({ url: '/env.php', headers: { cookie: 'sid=1' } })).json() as Env
  t.equal(viaOption.server.REMOTE_USER, 'dave@example.org')
  t.equal(viaOption.server.AUTH_TYPE, 'Cookie')
  const nobody = (await custom.inject({ url: '/env.php' })).json() as Env
  t.notOk('REMOTE_USER' in nobody.server)
})

t.test('an authorizer sees REMOTE_USER and AUTH_TYPE', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'remote-user.php') } })
  const app = Fastify()
  t.teardown(() => app.close())
  // added before the plugin: runs before the authorizer's onRequest hook, as mod_auth before mod_fastcgi
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.headers.authorization === basic('erin', 'pw')) request.user = 'erin'
  })
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options } }
  })

  const denied = await app.inject({ url: '/env.php' })
  t.equal(denied.statusCode, 401, 'no user: the authorizer refuses')
  t.equal(denied.body, 'who are you?\n')

  const approved = await app.inject({ url: '/env.php', headers: { authorization: basic('erin', 'pw') } })
  t.equal(approved.statusCode, 200)
  const env = (approved.json() as Env).server
  t.equal(env.AUTHZ_SAW_USER, 'erin', 'the authorizer was given REMOTE_USER')
  t.equal(env.AUTHZ_SAW_TYPE, 'Basic', 'and AUTH_TYPE')
  t.equal(env.REMOTE_USER, 'erin', 'the responder too')
  t.equal(env.AUTH_TYPE, 'Basic')
})
