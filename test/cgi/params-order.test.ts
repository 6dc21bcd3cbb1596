import t from 'tap'
import { buildCgiParams, resolveScriptLocation } from '../../plugin/cgi/params'
import type { CgiRequestInfo } from '../../plugin/cgi/params'

const base: CgiRequestInfo = {
  method: 'POST',
  rawTarget: '/index.php/x?q=1',
  path: '/index.php/x',
  query: 'q=1',
  httpVersion: '1.1',
  headers: [['Host', 'www.example.org:8080'], ['Content-Type', 'text/plain'], ['Content-Length', '5'], ['X-A', '1']],
  contentLength: 5,
  remoteAddress: '10.0.0.2',
  remotePort: 50000,
  serverAddress: '10.0.0.1',
  serverPort: 8080,
  https: false,
  serverSoftware: 'fastify-fastcgi/1'
}

const loc = resolveScriptLocation({ scriptName: '/index.php', pathInfo: '/x', documentRoot: '/srv/www', brokenScriptfilename: false })

t.test('every param in lighttpd 1.4.69 order (3.1)', async (t) => {
  const params = buildCgiParams({ ...base, https: true }, loc, {
    role: 'responder',
    redirectUri: '/index.php/x?q=1',
    extraVariables: [['REMOTE_USER', 'alice'], ['AUTH_TYPE', 'Basic']]
  })
  t.same(params, [
    ['CONTENT_LENGTH', '5'],
    ['QUERY_STRING', 'q=1'],
    ['REQUEST_URI', '/index.php/x?q=1'],
    ['REDIRECT_URI', '/index.php/x?q=1'],
    ['REDIRECT_STATUS', '200'],
    ['SCRIPT_NAME', '/index.php'],
    ['PATH_INFO', '/x'],
    ['PATH_TRANSLATED', '/srv/www/x'],
    ['SCRIPT_FILENAME', '/srv/www/index.php'],
    ['DOCUMENT_ROOT', '/srv/www'],
    ['REQUEST_METHOD', 'POST'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', 'fastify-fastcgi/1'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['REQUEST_SCHEME', 'https'],
    ['HTTPS', 'on'],
    ['SERVER_PORT', '8080'],
    ['SERVER_ADDR', '10.0.0.1'],
    ['SERVER_NAME', 'www.example.org'],
    ['REMOTE_ADDR', '10.0.0.2'],
    ['REMOTE_PORT', '50000'],
    ['HTTP_HOST', 'www.example.org:8080'],
    ['CONTENT_TYPE', 'text/plain'],
    ['HTTP_CONTENT_LENGTH', '5'],
    ['HTTP_X_A', '1'],
    ['REMOTE_USER', 'alice'],
    ['AUTH_TYPE', 'Basic']
  ])
})

t.test('optional params are left out, not sent empty', async (t) => {
  const plain = resolveScriptLocation({ scriptName: '/index.php', pathInfo: '', documentRoot: '/srv/www', brokenScriptfilename: false })
  const names = buildCgiParams({ ...base, headers: [] }, plain, { role: 'responder' }).map(([k]) => k)
  t.same(names, [
    'CONTENT_LENGTH', 'QUERY_STRING', 'REQUEST_URI', 'REDIRECT_STATUS', 'SCRIPT_NAME', 'SCRIPT_FILENAME',
    'DOCUMENT_ROOT', 'REQUEST_METHOD', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE',
    'REQUEST_SCHEME', 'SERVER_PORT', 'SERVER_ADDR', 'SERVER_NAME', 'REMOTE_ADDR', 'REMOTE_PORT'
  ])
})

t.test('scalar params', async (t) => {
  const env = Object.fromEntries(buildCgiParams({ ...base, httpVersion: '2.0', contentLength: 0, query: '' }, loc, { role: 'responder' }))
  t.equal(env.SERVER_PROTOCOL, 'HTTP/2.0')
  t.equal(env.CONTENT_LENGTH, '0')
  t.equal(env.QUERY_STRING, '', 'always sent, empty when there is no query')
  t.equal(env.REQUEST_SCHEME, 'http')
  t.notOk('HTTPS' in env)
  t.equal(env.REDIRECT_STATUS, '200')
  const redirected = Object.fromEntries(buildCgiParams(base, loc, { role: 'responder', redirectStatus: '404' }))
  t.equal(redirected.REDIRECT_STATUS, '404')
})

t.test('CONTENT_LENGTH falls back to 0 for a responder without a known length', async (t) => {
  const env = Object.fromEntries(buildCgiParams({ ...base, contentLength: undefined }, loc, { role: 'responder' }))
  t.equal(env.CONTENT_LENGTH, '0')
})

t.test('PATH_TRANSLATED only travels with PATH_INFO', async (t) => {
  const odd = { ...loc, pathInfo: '', pathTranslated: '/srv/www/x' }
  const names = buildCgiParams(base, odd, { role: 'responder' }).map(([k]) => k)
  t.notOk(names.includes('PATH_INFO'))
  t.notOk(names.includes('PATH_TRANSLATED'))
})

t.test('the env list is encoded like header names without HTTP_', async (t) => {
  const params = buildCgiParams({ ...base, headers: [] }, loc, {
    role: 'responder',
    extraVariables: [['Foo-Bar', 'x'], ['REMOTE_USER', ''], ['a.b=c', 'y']]
  })
  t.same(params.slice(-3), [['FOO_BAR', 'x'], ['REMOTE_USER', ''], ['A_B_C', 'y']], 'empty values are still sent')
})
