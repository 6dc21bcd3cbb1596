import t from 'tap'
import { buildCgiParams, requestUri } from '../../plugin/cgi/params'
import type { CgiRequestInfo, ScriptLocation } from '../../plugin/cgi/params'

t.test('REQUEST_URI is the target as received', async (t) => {
  t.equal(requestUri('/a%20b/../c.php?x=%41', undefined), '/a%20b/../c.php?x=%41', 'neither decoded nor normalized')
  t.equal(requestUri('http://host:81/x?q', undefined), '/x?q', 'absolute-form reduced')
  t.equal(requestUri('http://host', undefined), '/')
})

t.test('strip-request-uri removes the prefix only before a /', async (t) => {
  const strip = '/app1'
  t.equal(requestUri('/app1/x?q', strip), '/x?q')
  t.equal(requestUri('/app1/', strip), '/')
  t.equal(requestUri('/app1', strip), '/app1')
  t.equal(requestUri('/app1?x', strip), '/app1?x')
  t.equal(requestUri('/app10/x', strip), '/app10/x')
  t.equal(requestUri('/App1/x', strip), '/App1/x', 'case-sensitive')
  t.equal(requestUri('http://h/app1/x', strip), '/x')
})

t.test('a trailing / on strip-request-uri is ignored, as lighttpd drops it at load time', async (t) => {
  t.equal(requestUri('/app1/x?q', '/app1/'), '/x?q')
  t.equal(requestUri('/app1', '/app1/'), '/app1')
  t.equal(requestUri('/x', '/'), '/x', 'stripping / strips nothing')
  t.equal(requestUri('/x', ''), '/x')
})

t.test('buildCgiParams applies it to REQUEST_URI only', async (t) => {
  const loc: ScriptLocation = { scriptName: '/app1/i.php', pathInfo: '', scriptFilename: '/srv/www/app1/i.php', documentRoot: '/srv/www' }
  const req: CgiRequestInfo = {
    method: 'GET', rawTarget: '/app1/i.php?a=1', path: '/app1/i.php', query: 'a=1', httpVersion: '1.1', headers: [],
    contentLength: 0, remoteAddress: '', remotePort: 0, serverAddress: '', serverPort: 0, https: false, serverSoftware: 's'
  }
  const env = Object.fromEntries(buildCgiParams(req, loc, { role: 'responder', stripRequestUri: '/app1' }))
  t.equal(env.REQUEST_URI, '/i.php?a=1')
  t.equal(env.SCRIPT_NAME, '/app1/i.php')
  t.equal(env.QUERY_STRING, 'a=1')
})
