import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'

// Each bad block must be refused however it is cut: the check cannot depend on chunking.
function* pieces (block: Buffer): Generator<Buffer[]> {
  yield [block]
  yield [...block].map((b) => Buffer.from([b]))
  for (let i = 1; i < block.length; i++) yield [block.subarray(0, i), block.subarray(i)]
}

function rejects (t: tap.Test, text: string, why: string): void {
  const block = Buffer.from(text, 'latin1')
  let ok = 0
  let total = 0
  for (const cut of pieces(block)) {
    total++
    const parser = new CgiHeaderParser(65536)
    try {
      for (const piece of cut) parser.push(piece)
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_FASTCGI_BAD_HEADER' && (err as { statusCode?: number }).statusCode === 502) ok++
      continue
    }
  }
  t.equal(ok, total, `${why}: ${JSON.stringify(text)}`)
}

t.test('a first line that is neither header nor status line', async (t) => {
  rejects(t, 'hello world\r\n\r\n', 'plain body without headers')
  rejects(t, '<html>\n\n', 'html')
  rejects(t, 'HTTP\r\n\r\n', 'not HTTP/')
})

t.test('a header name that is not a token is never forwarded', async (t) => {
  rejects(t, 'X-Bad : 1\r\n\r\n', 'space before the colon')
  rejects(t, 'X-Bad\t: 1\r\n\r\n', 'tab before the colon')
  rejects(t, ': v\r\n\r\n', 'empty name')
  rejects(t, 'X: 1\r\n: v\r\n\r\n', 'empty name later')
  rejects(t, 'X: 1\r\nBad Name: v\r\n\r\n', 'space inside the name')
  rejects(t, 'X: 1\r\n X: v\r\n\r\n', 'leading space (obs-fold)')
  rejects(t, 'X: 1\r\nX(y): v\r\n\r\n', 'separator in the name')
  rejects(t, 'X: 1\r\nX\u0000Y: v\r\n\r\n', 'NUL in the name')
  rejects(t, 'X: 1\r\nX\rY: v\r\n\r\n', 'CR in the name')
  rejects(t, 'X: 1\r\nX\u00e9: v\r\n\r\n', 'non-ASCII name')
})

t.test('a value holding CR, NUL or another control character (response splitting)', async (t) => {
  rejects(t, 'X: a\rb\r\n\r\n', 'bare CR')
  rejects(t, 'X: a\r\r\n\r\n', 'CR before CRLF')
  rejects(t, 'X: a\u0000b\r\n\r\n', 'NUL')
  rejects(t, 'X: a\u0001\r\n\r\n', 'SOH')
  rejects(t, 'X: a\u007f\r\n\r\n', 'DEL')
  rejects(t, 'Set-Cookie: a=1\rX-Injected: 1\r\n\r\n', 'injected header via bare CR')
  rejects(t, 'X: \u0000\r\n\r\n', 'a value that would be empty after the NUL')
})

t.test('a malformed Status', async (t) => {
  rejects(t, 'Status: abc\r\n\r\n', 'letters')
  rejects(t, 'X: 1\r\nStatus: 1000\r\n\r\n', 'four digits')
  rejects(t, 'HTTP/1.1 9 x\r\n\r\n', 'bad NPH code')
})

t.test('the error message quotes what was wrong, shortened', async (t) => {
  const parser = new CgiHeaderParser(65536)
  let message = ''
  try {
    parser.push(Buffer.from(`${'x'.repeat(500)}\r\n\r\n`))
  } catch (err) {
    message = (err as Error).message
  }
  t.match(message, /^Bad CGI response header from backend: .*"x+\.\.\."$/)
  t.ok(message.length < 200)
})
