// REMOTE_USER and AUTH_TYPE as lighttpd's mod_auth sends them (auth.require with method basic,
// in front of mod_fastcgi) and as the plugin sends them behind @fastify/basic-auth, to the
// same php-cgi: the same two values, and neither without credentials.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import basicAuth from '@fastify/basic-auth'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { hasLighttpd, startLighttpd } from '../helpers/lighttpd'
import { makeTempDir } from '../helpers/tmp'
import { request } from '../helpers/http'

type Env = { server: Record<string, string | undefined> }
const credentials = `Basic ${Buffer.from('alice:secret').toString('base64')}`

t.test('REMOTE_USER / AUTH_TYPE behind lighttpd mod_auth and behind @fastify/basic-auth', { skip: (!hasPhpCgi() && 'php-cgi missing') || (!hasLighttpd() && 'lighttpd missing') }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const dir = makeTempDir(t, 'ffcgi-auth-')
  const users = join(dir, 'users')
  writeFileSync(users, 'alice:secret\n')
  const address: Record<string, string | number> = php.address.kind === 'unix' ? { socket: php.address.path } : { host: php.address.host, port: php.address.port }
  const lighttpd = await startLighttpd(t, {
    documentRoot: PHP_FIXTURES,
    modules: ['mod_auth', 'mod_authn_file'],
    fastcgiServer: { '.php': [{ ...address, 'check-local': 'enable' }] },
    extraConfig: [
      'auth.backend = "plain"',
      `auth.backend.plain.userfile = "${users}"`,
      'auth.require = ( "/" => ( "method" => "basic", "realm" => "php", "require" => "valid-user" ) )'
    ].join('\n')
  })

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(basicAuth, {
    authenticate: { realm: 'php' },
    validate: async (username: string, password: string, req: FastifyRequest) => {
      if (username !== 'alice' || password !== 'secret') throw new Error('unknown user')
      Reflect.set(req, 'user', username)
    }
  })
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] }, onRequest: app.basicAuth })

  const fromLighttpd = await request(`${lighttpd.url}/env.php`, { headers: { authorization: credentials } })
  t.equal(fromLighttpd.status, 200, 'lighttpd lets the user through')
  const theirs = (JSON.parse(fromLighttpd.body.toString()) as Env).server
  const ours = ((await app.inject({ url: '/env.php', headers: { authorization: credentials } })).json() as Env).server
  t.equal(theirs.REMOTE_USER, 'alice', 'lighttpd sends the user')
  t.equal(theirs.AUTH_TYPE, 'Basic', 'and the scheme')
  t.equal(ours.REMOTE_USER, theirs.REMOTE_USER, 'the plugin sends the same REMOTE_USER')
  t.equal(ours.AUTH_TYPE, theirs.AUTH_TYPE, 'and the same AUTH_TYPE')

  t.equal((await request(`${lighttpd.url}/env.php`)).status, 401, 'lighttpd: no credentials, 401')
  t.equal((await app.inject({ url: '/env.php' })).statusCode, 401, 'the plugin: the same')
})
