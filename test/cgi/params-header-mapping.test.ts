import t from 'tap'
import { buildCgiParams, cgiHeaderName, cgiVariableName } from '../../plugin/cgi/params'
import type { CgiRequestInfo, ScriptLocation } from '../../plugin/cgi/params'

const loc: ScriptLocation = { scriptName: '/i.php', pathInfo: '', scriptFilename: '/srv/www/i.php', documentRoot: '/srv/www' }

function headerParams (headers: Array<[string, string]>): Array<[string, string]> {
  const req: CgiRequestInfo = {
    method: 'GET', rawTarget: '/i.php', path: '/i.php', query: '', httpVersion: '1.1', headers,
    contentLength: 0, remoteAddress: '', remotePort: 0, serverAddress: '', serverPort: 0, https: false,
    serverSoftware: 's', serverName: 'fixed'
  }
  const params = buildCgiParams(req, loc, { role: 'responder' })
  return params.slice(params.findIndex(([k]) => k === 'REMOTE_PORT') + 1)
}

t.test('HTTP_ + upper-case, non-alphanumerics become _', async (t) => {
  t.same(headerParams([['x.dot+plus', 'a'], ['User-Agent', 'b'], ['x-9', 'c'], ['my_custom', 'd']]), [
    ['HTTP_X_DOT_PLUS', 'a'], ['HTTP_USER_AGENT', 'b'], ['HTTP_X_9', 'c'], ['HTTP_MY_CUSTOM', 'd']
  ])
  t.equal(cgiVariableName('aZ09-_.~'), 'AZ09____')
  t.equal(cgiVariableName('ALREADY_OK'), 'ALREADY_OK')
  t.equal(cgiVariableName('\u00e9t\u00e9'), '_T_', 'only ASCII letters are upper-cased')
})

t.test('Content-Type becomes CONTENT_TYPE at its own position', async (t) => {
  t.same(headerParams([['X-A', '1'], ['content-type', 'text/html'], ['X-B', '2']]), [
    ['HTTP_X_A', '1'], ['CONTENT_TYPE', 'text/html'], ['HTTP_X_B', '2']
  ])
})

t.test('Content-Length is also passed as HTTP_CONTENT_LENGTH', async (t) => {
  t.same(headerParams([['Content-Length', '12']]), [['HTTP_CONTENT_LENGTH', '12']])
})

t.test('Authorization is passed', async (t) => {
  t.same(headerParams([['Authorization', 'Basic eDp5']]), [['HTTP_AUTHORIZATION', 'Basic eDp5']])
})

t.test('Transfer-Encoding and Expect never appear', async (t) => {
  t.same(headerParams([['Transfer-Encoding', 'chunked'], ['expect', '100-continue'], ['EXPECT', 'x'], ['X', '1']]), [['HTTP_X', '1']])
})

t.test('Host, Connection, TE and Keep-Alive are passed through', async (t) => {
  t.same(headerParams([['Host', 'h'], ['Connection', 'keep-alive'], ['TE', 'trailers'], ['Keep-Alive', '5']]), [
    ['HTTP_HOST', 'h'], ['HTTP_CONNECTION', 'keep-alive'], ['HTTP_TE', 'trailers'], ['HTTP_KEEP_ALIVE', '5']
  ])
})

t.test('headers with empty values are skipped', async (t) => {
  t.same(headerParams([['X-Empty', ''], ['X-Full', 'v']]), [['HTTP_X_FULL', 'v']])
  t.same(headerParams([['X-A', ''], ['x-a', 'later']]), [['HTTP_X_A', 'later']], 'an empty first one does not hold the position')
})

t.test('repeated names merge with ", " at the first position, case-insensitively', async (t) => {
  t.same(headerParams([['Accept', 'a'], ['X-B', 'b'], ['accept', 'c'], ['ACCEPT', 'd']]), [
    ['HTTP_ACCEPT', 'a, c, d'], ['HTTP_X_B', 'b']
  ])
})

t.test('repeated Cookie headers merge with "; "', async (t) => {
  t.same(headerParams([['Cookie', 'a=1'], ['X', 'x'], ['cookie', 'b=2']]), [['HTTP_COOKIE', 'a=1; b=2'], ['HTTP_X', 'x']])
})

t.test('spellings that collide on one CGI name are a 400, never joined (lighttpd 1.4.83)', async (t) => {
  const bad = { code: 'FST_FASTCGI_BAD_REQUEST', statusCode: 400 }
  t.throws(() => headerParams([['X_Under', 'a'], ['X-Under', 'b']]), { ...bad, message: /"X_Under" and "X-Under" both become HTTP_X_UNDER/ })
  t.throws(() => headerParams([['X-Under', 'a'], ['x.under', 'c']]), bad, 'any separator, either order')
  t.throws(() => headerParams([['X_Under', 'a'], ['x.under', 'c']]), bad, 'two non-dash spellings (lighttpd lets these through)')
  t.same(headerParams([['X_Under', 'a']]), [['HTTP_X_UNDER', 'a']], 'one spelling alone is its own header')
  t.same(headerParams([['X_Under', ''], ['X-Under', 'b']]), [['HTTP_X_UNDER', 'b']], 'an empty value is not sent, so nothing collides')
})

t.test('a well-known header spelled with another separator is a 400 even alone (lighttpd 1.4.83)', async (t) => {
  for (const name of ['X_Forwarded_For', 'x.forwarded.for', 'Content_Length', 'content_type', 'Accept_Encoding', 'Transfer_Encoding', 'HOST_']) {
    if (name === 'HOST_') {
      t.same(headerParams([[name, 'v']]), [['HTTP_HOST_', 'v']], 'host- is not a header anyone knows')
      continue
    }
    t.throws(() => headerParams([[name, 'v']]), { code: 'FST_FASTCGI_BAD_REQUEST', message: /would pass for/ }, name)
  }
  t.same(headerParams([['X-Forwarded-For', '1.2.3.4']]), [['HTTP_X_FORWARDED_FOR', '1.2.3.4']], 'the real spelling passes')
})

t.test('HTTP/2 pseudo-headers are not request headers, except :authority, which is the Host', async (t) => {
  t.same(headerParams([[':method', 'GET'], [':path', '/'], [':authority', 'h'], [':scheme', 'https'], ['accept', '*/*']]), [
    ['HTTP_HOST', 'h'],
    ['HTTP_ACCEPT', '*/*']
  ])
  t.same(headerParams([[':authority', 'h'], ['host', 'h']]), [['HTTP_HOST', 'h']], 'one Host, the first, never joined')
  t.throws(() => headerParams([[':authority', 'h'], ['host', 'h'], ['Host', 'other']]), { code: 'FST_FASTCGI_BAD_REQUEST', message: /more than one Host/ })
})

t.test('the same name converts the same way on every call (cache)', async (t) => {
  for (let i = 0; i < 3; i++) t.equal(cgiHeaderName('X-Cached-Name'), 'HTTP_X_CACHED_NAME')
  // more distinct names than the cache holds must not change any answer
  for (let i = 0; i < 1000; i++) t.equal(cgiHeaderName(`x-n${i}`), `HTTP_X_N${i}`)
  t.equal(cgiHeaderName('X-Cached-Name'), 'HTTP_X_CACHED_NAME')
  t.equal(cgiHeaderName('Content-Type'), 'CONTENT_TYPE')
  t.equal(cgiHeaderName('Expect'), undefined)
})

t.test('values are passed untouched', async (t) => {
  t.same(headerParams([['X', '  spaced  '], ['Y', 'caf\u00c3\u00a9']]), [['HTTP_X', '  spaced  '], ['HTTP_Y', 'caf\u00c3\u00a9']])
})

t.test('repeats merge the same way for a few headers and for many', async (t) => {
  const repeats: Array<[string, string]> = [['X-Rep', 'a'], ['Cookie', 'c=1'], ['x-REP', 'b'], ['cookie', 'd=2'], ['Host', 'h1']]
  const few = headerParams(repeats)
  t.same(few, [['HTTP_X_REP', 'a, b'], ['HTTP_COOKIE', 'c=1; d=2'], ['HTTP_HOST', 'h1']])
  // past a couple dozen headers the merge looks names up in a map instead of scanning
  const filler: Array<[string, string]> = Array.from({ length: 30 }, (_, i) => [`X-Fill-${i}`, String(i)])
  const many = headerParams([...filler, ...repeats])
  t.same(many.slice(30), few, 'the same merged values after 30 other headers')
  t.throws(() => headerParams([...filler, ['X_Fill_3', 'x']]), { code: 'FST_FASTCGI_BAD_REQUEST' }, 'collisions are found past the map threshold too')
  t.throws(() => headerParams([...filler, ['Host', 'a'], ['host', 'b']]), { message: /more than one Host/ })
  t.equal(many.length, 33)
})
