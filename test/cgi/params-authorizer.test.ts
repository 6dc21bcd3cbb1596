import t from 'tap'
import { buildCgiParams, resolveScriptLocation } from '../../plugin/cgi/params'
import type { CgiRequestInfo } from '../../plugin/cgi/params'

const req: CgiRequestInfo = {
  method: 'POST',
  rawTarget: '/app/x/y',
  path: '/app/x/y',
  query: '',
  httpVersion: '1.1',
  headers: [['Host', 'h'], ['Content-Length', '3']],
  contentLength: undefined,
  remoteAddress: '::1',
  remotePort: 1,
  serverAddress: '::1',
  serverPort: 80,
  https: false,
  serverSoftware: 's'
}

t.test('an authorizer gets no CONTENT_LENGTH, SCRIPT_NAME, PATH_INFO or PATH_TRANSLATED', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/app', pathInfo: '/x/y', documentRoot: '/srv/www', docroot: '/auth', brokenScriptfilename: false })
  const params = buildCgiParams(req, loc, { role: 'authorizer' })
  const names = params.map(([k]) => k)
  for (const gone of ['CONTENT_LENGTH', 'SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED']) t.notOk(names.includes(gone), gone)
  const env = Object.fromEntries(params)
  t.equal(env.SCRIPT_FILENAME, '/auth/app', 'based on the authorizer docroot')
  t.equal(env.DOCUMENT_ROOT, '/auth')
  t.equal(env.HTTP_CONTENT_LENGTH, '3', 'the client header is still passed')
  t.equal(env.REDIRECT_STATUS, '200')
  t.equal(names[0], 'QUERY_STRING')
})

t.test('an authorizer gets no CONTENT_LENGTH even when a length is given', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/app', pathInfo: '', documentRoot: '/srv/www', brokenScriptfilename: false })
  const names = buildCgiParams({ ...req, contentLength: 3 }, loc, { role: 'authorizer' }).map(([k]) => k)
  t.notOk(names.includes('CONTENT_LENGTH'))
})

t.test('Variable-* results reach the responder at the end', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/app', pathInfo: '', documentRoot: '/srv/www', brokenScriptfilename: false })
  const params = buildCgiParams({ ...req, contentLength: 3 }, loc, {
    role: 'responder',
    extraVariables: [['FOO_BAR', 'x'], ['REMOTE_USER', 'bob']]
  })
  t.same(params.slice(-2), [['FOO_BAR', 'x'], ['REMOTE_USER', 'bob']])
})
