import t from 'tap'
import { buildCgiParams } from '../../plugin/cgi/params'
import type { CgiRequestInfo, ScriptLocation } from '../../plugin/cgi/params'

const loc: ScriptLocation = { scriptName: '/i.php', pathInfo: '', scriptFilename: '/srv/www/i.php', documentRoot: '/srv/www' }

function params (headers: Array<[string, string]>, extraVariables?: Array<[string, string]>): Array<[string, string]> {
  const req: CgiRequestInfo = {
    method: 'GET', rawTarget: '/i.php', path: '/i.php', query: '', httpVersion: '1.1', headers,
    contentLength: 0, remoteAddress: '', remotePort: 0, serverAddress: '', serverPort: 0, https: false, serverSoftware: 's'
  }
  return buildCgiParams(req, loc, { role: 'responder', extraVariables })
}

const names = (p: Array<[string, string]>): string[] => p.map(([k]) => k)

t.test('a Proxy request header never becomes HTTP_PROXY', async (t) => {
  for (const spelling of ['Proxy', 'proxy', 'PROXY', 'pRoXy']) {
    const p = params([[spelling, 'http://evil:8080'], ['X', '1']])
    t.notOk(names(p).includes('HTTP_PROXY'), spelling)
    t.ok(names(p).includes('HTTP_X'))
  }
})

t.test('the env list cannot set HTTP_PROXY either', async (t) => {
  const p = params([], [['HTTP_PROXY', 'http://evil'], ['http-proxy', 'http://evil'], ['OK', '1']])
  t.notOk(names(p).includes('HTTP_PROXY'))
  t.ok(names(p).includes('OK'))
})

t.test('look-alike names are not dropped', async (t) => {
  const p = params([['Proxy-Authorization', 'x'], ['X-Proxy', 'y'], ['Proxy_', 'z']])
  t.same(p.slice(-3), [['HTTP_PROXY_AUTHORIZATION', 'x'], ['HTTP_X_PROXY', 'y'], ['HTTP_PROXY_', 'z']])
})
