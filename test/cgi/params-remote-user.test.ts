// REMOTE_USER and AUTH_TYPE from the application's authentication (issue 13): after the
// request headers, user first, as lighttpd's mod_auth puts them; sent as the user name's UTF-8
// bytes; no extra variable can change them; a user name with a control character is a 400.
// php-cgi, given the params buildCgiParams builds, shows them in $_SERVER.
import t from 'tap'
import { buildCgiParams, resolveScriptLocation } from '../../plugin/cgi/params'
import type { CgiRequestInfo, CgiParamsOptions } from '../../plugin/cgi/params'
import { remoteUserParams } from '../../plugin/cgi/remote-user'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { fcgiRequest, parseCgiResponse } from '../helpers/fcgi-client'

const req: CgiRequestInfo = {
  method: 'GET', rawTarget: '/env.php', path: '/env.php', query: '', httpVersion: '1.1',
  headers: [['Host', 'h.test'], ['Authorization', 'Bearer x.y.z']],
  contentLength: 0, remoteAddress: '127.0.0.1', remotePort: 1, serverAddress: '127.0.0.1', serverPort: 2, https: false,
  serverSoftware: 's'
}
const loc = resolveScriptLocation({ scriptName: '/env.php', pathInfo: '', documentRoot: PHP_FIXTURES, brokenScriptfilename: false })

function build (opts: Partial<CgiParamsOptions>): Array<[string, string]> {
  return buildCgiParams(req, loc, { role: 'responder', ...opts })
}

t.test('after the request headers, user first, before the extra variables', async (t) => {
  const params = build({ remoteUser: { user: 'alice', authType: 'Bearer' }, extraVariables: [['APP', '1']] })
  const names = params.map(([n]) => n)
  t.same(names.slice(-5), ['HTTP_HOST', 'HTTP_AUTHORIZATION', 'REMOTE_USER', 'AUTH_TYPE', 'APP'])
  t.same(params.slice(-3, -1), [['REMOTE_USER', 'alice'], ['AUTH_TYPE', 'Bearer']])
})

t.test('nothing without a user; AUTH_TYPE only when it is a token', async (t) => {
  for (const remoteUser of [undefined, { user: '' }, { user: '', authType: 'Basic' }]) {
    t.notOk(build({ remoteUser }).some(([n]) => n === 'REMOTE_USER' || n === 'AUTH_TYPE'), JSON.stringify(remoteUser))
  }
  t.same(remoteUserParams({ user: 'bob' }), [['REMOTE_USER', 'bob']], 'no auth type: REMOTE_USER alone')
  t.same(remoteUserParams({ user: 'bob', authType: 'Basic realm' }), [['REMOTE_USER', 'bob']], 'not a token: not sent')
})

t.test('the user name is text, sent as UTF-8; a control character in it is a 400', async (t) => {
  t.same(remoteUserParams({ user: 'José', authType: 'Basic' })[0], ['REMOTE_USER', Buffer.from('José', 'utf8').toString('latin1')])
  for (const user of ['admin\nX-Injected: 1', 'a\u0000b', 'a\rb', 'a\u007fb']) {
    t.throws(() => build({ remoteUser: { user } }), { code: 'FST_FASTCGI_BAD_REQUEST', statusCode: 400 }, JSON.stringify(user))
  }
})

t.test('extra variables cannot change the authenticated identity, and set it only when there is none', async (t) => {
  const extras: Array<[string, string]> = [['REMOTE_USER', 'mallory'], ['auth_type', 'None'], ['APP', '1']]
  const params = build({ remoteUser: { user: 'alice', authType: 'Basic' }, extraVariables: extras })
  t.same(params.filter(([n]) => n === 'REMOTE_USER' || n === 'AUTH_TYPE'), [['REMOTE_USER', 'alice'], ['AUTH_TYPE', 'Basic']])
  t.ok(params.some(([n]) => n === 'APP'))
  const unauthenticated = build({ extraVariables: extras })
  t.same(unauthenticated.filter(([n]) => n === 'REMOTE_USER'), [['REMOTE_USER', 'mallory']], 'as before when the application authenticated no one')
})

t.test('php-cgi sees them in $_SERVER', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 0 })
  const res = await fcgiRequest(php.address, { params: build({ remoteUser: { user: 'José', authType: 'Basic' } }) })
  const cgi = parseCgiResponse(res.stdout)
  t.equal(cgi.status, 200)
  const server = (JSON.parse(cgi.body.toString('utf8')) as { server: Record<string, string> }).server
  t.equal(server.REMOTE_USER, 'José', 'the UTF-8 bytes arrive as the same name')
  t.equal(server.AUTH_TYPE, 'Basic')
})
