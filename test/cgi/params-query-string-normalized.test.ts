// QUERY_STRING as lighttpd 1.4.69 sends it (reference 2.4; its default url-normalize-unreserved):
// unreserved escapes decoded, other escapes upper-case, stray `%` and raw unsafe bytes encoded,
// `+` untouched. Expected values are what lighttpd 1.4.69 sent to php-cgi for the same targets.
import t from 'tap'
import { normalizeQuery } from '../../plugin/cgi/url-path'
import { buildCgiParams, resolveScriptLocation } from '../../plugin/cgi/params'
import type { CgiRequestInfo } from '../../plugin/cgi/params'

t.test('normalizeQuery matches lighttpd', async (t) => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['a=1&b=two+three', 'a=1&b=two+three'],
    ['%7e%41', '~A'],
    ['a=%7E&b=%e9', 'a=~&b=%E9'],
    ['%2a%2A%2d%2e%5f%30', '%2A%2A-._0'],
    ['%7e%41%2f%2F%3d%3D%zz+%20%c3%a9%5B%5b', '~A%2F%2F%3D%3D%25zz+%20%C3%A9%5B%5B'],
    ['a=%zz%2%', 'a=%25zz%252%25'],
    ['%22%3c', '%22%3C'],
    ['%00', '%00'],
    ['a b"<>', 'a%20b%22%3C%3E'],
    ['\u00e9', '%E9'],
    ["x=!$&'()*,;:@/?", "x=!$&'()*,;:@/?"]
  ]
  for (const [raw, want] of cases) t.equal(normalizeQuery(raw), want, JSON.stringify(raw))
})

t.test('buildCgiParams sends the normalized query, REQUEST_URI stays raw', async (t) => {
  const req: CgiRequestInfo = {
    method: 'GET',
    rawTarget: '/env.php?q=%7e%41&r=%2f',
    path: '/env.php',
    query: 'q=%7e%41&r=%2f',
    httpVersion: '1.1',
    headers: [['Host', 'www.example.org']],
    contentLength: 0,
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    serverAddress: '127.0.0.1',
    serverPort: 8080,
    https: false,
    serverSoftware: 'fastify-fastcgi'
  }
  const loc = resolveScriptLocation({ scriptName: '/env.php', pathInfo: '', documentRoot: '/srv/www', brokenScriptfilename: false })
  const params = Object.fromEntries(buildCgiParams(req, loc, { role: 'responder' }))
  t.equal(params.QUERY_STRING, 'q=~A&r=%2F')
  t.equal(params.REQUEST_URI, '/env.php?q=%7e%41&r=%2f')
})
