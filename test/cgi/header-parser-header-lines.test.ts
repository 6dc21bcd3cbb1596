import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'

function headers (text: string): Array<[string, string]> {
  const got = new CgiHeaderParser(65536).push(Buffer.from(text, 'latin1'))
  if (got === undefined) throw new Error('incomplete')
  return got.head.headers
}

t.test('leading whitespace of a value is skipped, trailing whitespace kept', async (t) => {
  t.same(headers('X-A:   v  \r\nX-B:\t\tw\t\r\nX-C:x\r\n\r\n'), [['X-A', 'v  '], ['X-B', 'w\t'], ['X-C', 'x']])
})

t.test('empty values are dropped', async (t) => {
  t.same(headers('X-Empty:\r\nX-Blank:   \t\r\nX-Full: 1\r\n\r\n'), [['X-Full', '1']])
})

t.test('repeated headers stay separate pairs in order, names as sent', async (t) => {
  t.same(headers('Set-Cookie: a=1\r\nX: 1\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\n\r\n'), [
    ['Set-Cookie', 'a=1'], ['X', '1'], ['set-cookie', 'b=2'], ['SET-COOKIE', 'c=3']
  ])
})

t.test('a later line without a colon, or a folded line, is a bad header block (502), never dropped', async (t) => {
  const bad = { code: 'FST_FASTCGI_BAD_HEADER', statusCode: 502 }
  t.throws(() => headers('X-A: 1\r\ngarbage line\r\nX-B: 2\r\n\r\n'), { ...bad, message: /without a colon/ })
  t.throws(() => headers('X-A: 1\r\n  folded\r\nX-B: 2\r\n\r\n'), { ...bad, message: /folded/ })
  t.throws(() => headers('X-A: 1\n\tmore: of X-A\n\n'), { ...bad, message: /folded/ }, 'a folded line holding a colon too')
  t.throws(() => headers('Set-Cookie: a=1\nSet-Cookie b=2\n\n'), { ...bad, message: /without a colon/ })
})

t.test('only the first colon splits name and value', async (t) => {
  t.same(headers('Location: http://h:8080/x\r\n\r\n'), [['Location', 'http://h:8080/x']])
})

t.test('every token character is allowed in a name', async (t) => {
  const name = "!#$%&'*+-.^_`|~09AZaz"
  t.same(headers(`${name}: v\r\n\r\n`), [[name, 'v']])
})

t.test('bytes 0x80-0xFF in values survive as latin1 (Node writes them back as bytes)', async (t) => {
  const got = new CgiHeaderParser(100).push(Buffer.concat([Buffer.from('X: caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n\r\n')]))
  const value = got?.head.headers[0]?.[1] ?? ''
  t.same(Buffer.from(value, 'latin1'), Buffer.from('café'))
})

t.test('a TAB inside a value is fine', async (t) => {
  t.same(headers('X: a\tb\r\n\r\n'), [['X', 'a\tb']])
})
