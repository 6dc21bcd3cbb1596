import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'

t.test('a 1xx block is dropped and the next block parsed from the same stream', async (t) => {
  const got = new CgiHeaderParser(65536).push(Buffer.from('Status: 100 Continue\r\nX-Interim: 1\r\n\r\nStatus: 201\r\nX-Final: 1\r\n\r\nbody'))
  t.equal(got?.head.status, 201)
  t.same(got?.head.headers, [['X-Final', '1']], 'interim headers do not leak into the final head')
  t.equal(got?.rest.toString(), 'body')
})

t.test('several interim blocks, each in its own chunk', async (t) => {
  const parser = new CgiHeaderParser(65536)
  t.equal(parser.push(Buffer.from('Status: 102\r\n\r\n')), undefined)
  t.equal(parser.push(Buffer.from('Status: 103\r\nLink: </s.css>\r\n\r\n')), undefined)
  t.equal(parser.push(Buffer.from('Location: /x\r\n')), undefined)
  const got = parser.push(Buffer.from('\r\n'))
  t.equal(got?.head.status, 302, 'the final block stands on its own: Location alone means 302')
  t.same(got?.head.headers, [['Location', '/x']])
})

t.test('an NPH 1xx line is interim too', async (t) => {
  const got = new CgiHeaderParser(65536).push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nX: 1\r\n\r\n'))
  t.equal(got?.head.status, 200)
})

t.test('the final block may begin with an empty line', async (t) => {
  const got = new CgiHeaderParser(65536).push(Buffer.from('Status: 100\n\n\nbody'))
  t.equal(got?.head.status, 200)
  t.same(got?.head.headers, [])
  t.equal(got?.rest.toString(), 'body')
})

t.test('the final block must still be well-formed', async (t) => {
  t.throws(() => new CgiHeaderParser(65536).push(Buffer.from('Status: 100\r\n\r\nnot a header\r\n\r\n')), { code: 'FST_FASTCGI_BAD_HEADER' })
})

t.test('101 is final', async (t) => {
  const got = new CgiHeaderParser(65536).push(Buffer.from('Status: 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes'))
  t.equal(got?.head.status, 101)
  t.same(got?.head.headers, [['Upgrade', 'websocket']])
  t.equal(got?.rest.toString(), 'frames')
})

t.test('a later Status of 1xx overrides an earlier final one in the same block', async (t) => {
  const parser = new CgiHeaderParser(65536)
  t.equal(parser.push(Buffer.from('Status: 200\r\nStatus: 100\r\n\r\n')), undefined, 'last Status wins, so the block is interim')
  t.equal(parser.push(Buffer.from('\r\n'))?.head.status, 200)
})
