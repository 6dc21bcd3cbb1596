import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'
import type { CgiResponseHead } from '../../plugin/cgi/response-header-parser'

function parse (text: string): CgiResponseHead {
  const got = new CgiHeaderParser(65536).push(Buffer.from(text, 'latin1'))
  if (got === undefined) throw new Error('incomplete')
  return got.head
}

function statusOf (text: string): number {
  return parse(text).status
}

t.test('Status sets the code, the reason phrase is dropped', async (t) => {
  t.equal(statusOf('Status: 404 Not Found\r\n\r\n'), 404)
  t.equal(statusOf('Status: 201\r\n\r\n'), 201)
  t.equal(statusOf('Status: 999\r\n\r\n'), 999)
  t.equal(statusOf('Status: 100\r\n\r\nStatus: 204\r\n\r\n'), 204)
  t.equal(statusOf('Status: 302\tFound\r\n\r\n'), 302)
  t.equal(statusOf('Status:200\r\n\r\n'), 200)
  t.equal(statusOf('Status: \t 418 teapot \r\n\r\n'), 418)
})

t.test('the name is case-insensitive and Status is never forwarded', async (t) => {
  for (const name of ['Status', 'status', 'STATUS', 'sTaTuS']) {
    const head = parse(`${name}: 403\r\nX: 1\r\n\r\n`)
    t.equal(head.status, 403, name)
    t.same(head.headers, [['X', '1']])
  }
})

t.test('the last Status wins', async (t) => {
  t.equal(statusOf('Status: 404\r\nStatus: 500\r\n\r\n'), 500)
  t.equal(statusOf('Status: 500\r\nStatus: 200\r\n\r\n'), 200)
})

t.test('malformed Status is a bad header', async (t) => {
  for (const value of ['abc', '99', '099', '1000', '20', '20x', '2000 OK', '200OK', '-20', ' 4 04', '+200', '０００']) {
    t.throws(() => parse(`Status: ${value}\r\n\r\n`), { code: 'FST_FASTCGI_BAD_HEADER', statusCode: 502 }, JSON.stringify(value))
  }
})

t.test('an empty Status is dropped like any empty header', async (t) => {
  t.equal(statusOf('Status:\r\n\r\n'), 200)
  t.equal(statusOf('Status:   \r\n\r\n'), 200)
})

t.test('Location without Status is 302, with Status the Status counts', async (t) => {
  const redirect = parse('Location: http://example.org/\r\n\r\n')
  t.equal(redirect.status, 302)
  t.equal(redirect.location, 'http://example.org/')
  t.same(redirect.headers, [['Location', 'http://example.org/']], 'Location is still forwarded')
  t.equal(statusOf('Status: 200\r\nLocation: /x\r\n\r\n'), 200)
  t.equal(statusOf('Location: /x\r\nStatus: 301\r\n\r\n'), 301)
  t.equal(parse('location: /a\r\nLocation: /b\r\n\r\n').location, '/a', 'the first Location')
  t.equal(parse('X: 1\r\n\r\n').location, undefined)
  t.equal(statusOf('Location:\r\n\r\n'), 200, 'an empty Location does not count')
})

t.test('a local Location without Status is flagged for the gateway', async (t) => {
  t.equal(parse('Location: /local\r\n\r\n').localRedirect, true)
  t.equal(parse('Location: //other.host/\r\n\r\n').localRedirect, false)
  t.equal(parse('Location: http://h/\r\n\r\n').localRedirect, false)
  t.equal(parse('Status: 302\r\nLocation: /local\r\n\r\n').localRedirect, false)
})

t.test('NPH status line', async (t) => {
  t.equal(statusOf('HTTP/1.1 404 Not Found\r\n\r\n'), 404)
  t.equal(statusOf('HTTP/1.0 200\r\n\r\n'), 200, 'exactly 12 characters')
  t.equal(statusOf('HTTP/x.1 503 busy\r\n\r\n'), 503, 'the major version may be any character')
  t.equal(statusOf('HTTP/1.1 404 Not Found\r\nStatus: 410\r\n\r\n'), 410, 'a later Status still wins')
  for (const line of ['HTTP/1.1 20', 'HTTP/1.2 200 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 abc', 'HTTP/1.1 099 x', 'HTTP/11 200 OK', 'HTTP/2 200', 'HTTP/1.1 2000']) {
    t.throws(() => parse(`${line}\r\n\r\n`), { code: 'FST_FASTCGI_BAD_HEADER' }, line)
  }
})

t.test('an HTTP/ line after the first is a line without a colon: a bad header block', async (t) => {
  t.throws(() => parse('X: 1\r\nHTTP/1.1 500 Oops\r\n\r\n'), { code: 'FST_FASTCGI_BAD_HEADER', message: /without a colon/ })
})
