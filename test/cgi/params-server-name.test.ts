import t from 'tap'
import { buildCgiParams } from '../../plugin/cgi/params'
import type { CgiRequestInfo, ScriptLocation } from '../../plugin/cgi/params'

const loc: ScriptLocation = { scriptName: '/i.php', pathInfo: '', scriptFilename: '/srv/www/i.php', documentRoot: '/srv/www' }

function serverName (headers: Array<[string, string]>, configured?: string): string | undefined {
  const req: CgiRequestInfo = {
    method: 'GET', rawTarget: '/i.php', path: '/i.php', query: '', httpVersion: '1.1', headers,
    contentLength: 0, remoteAddress: '', remotePort: 0, serverAddress: '', serverPort: 0, https: false, serverSoftware: 's',
    ...(configured === undefined ? {} : { serverName: configured })
  }
  return Object.fromEntries(buildCgiParams(req, loc, { role: 'responder' })).SERVER_NAME
}

t.test('derived from Host: lower-cased, port removed', async (t) => {
  t.equal(serverName([['Host', 'WWW.Example.ORG:8080']]), 'www.example.org')
  t.equal(serverName([['host', 'example.org']]), 'example.org')
})

t.test('IPv6 literals keep their brackets', async (t) => {
  t.equal(serverName([['Host', '[::1]:8081']]), '[::1]')
  t.equal(serverName([['Host', '[FE80::1]']]), '[fe80::1]')
})

t.test('empty string without Host (HTTP/1.0)', async (t) => {
  t.equal(serverName([]), '')
  t.equal(serverName([['X', 'y']]), '')
})

t.test('HTTP/2 :authority stands in for Host', async (t) => {
  t.equal(serverName([[':authority', 'H2.example:443']]), 'h2.example')
  t.equal(serverName([[':authority', 'a.example'], ['Host', 'a.example']]), 'a.example', 'a Host beside it names the same site')
  // the router takes the Host, HTTP_HOST the :authority: two sites for one request (RFC 9113 8.3.1)
  t.throws(() => serverName([[':authority', 'a.example'], ['Host', 'b.example']]), { code: 'FST_FASTCGI_BAD_REQUEST' }, 'a Host differing from :authority is a 400')
})

t.test('a configured name wins', async (t) => {
  t.equal(serverName([['Host', 'client.example']], 'configured.example'), 'configured.example')
  t.equal(serverName([['Host', 'client.example']], ''), 'client.example', 'an empty name counts as unset')
})
