import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'
import type { CgiResponseHead } from '../../plugin/cgi/response-header-parser'

interface Outcome { head: CgiResponseHead, body: string }

function feed (pieces: Buffer[], limit = 65536): Outcome | undefined {
  const parser = new CgiHeaderParser(limit)
  let head: CgiResponseHead | undefined
  const body: Buffer[] = []
  for (const piece of pieces) {
    const got = parser.push(piece)
    if (got === undefined) continue
    head = got.head
    body.push(got.rest)
  }
  return head === undefined ? undefined : { head, body: Buffer.concat(body).toString('latin1') }
}

function* splits (block: Buffer): Generator<[string, Buffer[]]> {
  yield ['whole', [block]]
  yield ['one byte at a time', [...block].map((b) => Buffer.from([b]))]
  for (let i = 0; i <= block.length; i++) yield [`split at ${i}`, [block.subarray(0, i), block.subarray(i)]]
}

const blocks: Array<[string, string, number, Array<[string, string]>, string]> = [
  ['LF only', 'Content-Type: text/plain\nX-A: 1\n\nbody', 200, [['Content-Type', 'text/plain'], ['X-A', '1']], 'body'],
  ['CRLF', 'Content-Type: text/plain\r\nX-A: 1\r\n\r\nbody\r\n', 200, [['Content-Type', 'text/plain'], ['X-A', '1']], 'body\r\n'],
  ['mixed LF and CRLF', 'X-A: 1\r\nX-B: 2\n\r\nrest', 200, [['X-A', '1'], ['X-B', '2']], 'rest'],
  ['CRLF then bare LF terminator', 'X-A: 1\r\n\nrest', 200, [['X-A', '1']], 'rest'],
  ['status and cookies', 'Status: 404 Not Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n<h1>404</h1>', 404,
    [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']], '<h1>404</h1>'],
  ['empty first line', '\r\nno headers', 200, [], 'no headers'],
  ['empty first line, LF', '\nno headers', 200, [], 'no headers'],
  ['NPH status line', 'HTTP/1.1 201 Created\r\nX-A: 1\r\n\r\n', 201, [['X-A', '1']], ''],
  ['interim 1xx then final', 'Status: 103\r\nLink: </a.css>\r\n\r\nStatus: 200\r\nX-A: 1\r\n\r\nok', 200, [['X-A', '1']], 'ok'],
  ['body holding a blank line', 'X-A: 1\n\nline1\n\nline2', 200, [['X-A', '1']], 'line1\n\nline2'],
  ['CR inside the body is body', 'X-A: 1\r\n\r\n\r\r\n', 200, [['X-A', '1']], '\r\r\n']
]

for (const [name, text, status, headers, body] of blocks) {
  t.test(`${name}: the same result however the bytes arrive`, async (t) => {
    const block = Buffer.from(text, 'latin1')
    for (const [how, pieces] of splits(block)) {
      const got = feed(pieces)
      if (got === undefined) { t.fail(`${how}: no head`); continue }
      if (got.head.status !== status || JSON.stringify(got.head.headers) !== JSON.stringify(headers) || got.body !== body) {
        t.same({ status: got.head.status, headers: got.head.headers, body: got.body }, { status, headers, body }, how)
      }
    }
    t.pass(`${name}: all splits agree`)
  })
}

t.test('rest is a view of the chunk, not a copy', async (t) => {
  const chunk = Buffer.from('X: 1\r\n\r\nbody')
  const got = new CgiHeaderParser(100).push(chunk)
  t.ok(got)
  t.equal(got?.rest.buffer, chunk.buffer)
  t.equal(got?.rest.toString(), 'body')
})

t.test('no head until the block is complete', async (t) => {
  const parser = new CgiHeaderParser(100)
  t.notOk(parser.complete)
  t.equal(parser.push(Buffer.from('X: 1\r\n')), undefined)
  t.equal(parser.push(Buffer.from('\r')), undefined)
  t.equal(parser.push(Buffer.alloc(0)), undefined)
  const got = parser.push(Buffer.from('\n'))
  t.equal(got?.rest.length, 0)
  t.ok(parser.complete)
})

t.test('after the head every chunk is body', async (t) => {
  const parser = new CgiHeaderParser(100)
  const first = parser.push(Buffer.from('X: 1\n\n'))
  t.ok(first)
  const later = parser.push(Buffer.from('Status: 500\n\n'))
  t.equal(later?.rest.toString(), 'Status: 500\n\n')
  t.equal(later?.head, first?.head)
})
