// A malformed or unfinished chunked body is an error the gateway answers with a 502 (or, once
// the head has gone out, by aborting the response), never bytes passed on as if they were body.
import t from 'tap'
import { ChunkedBodyDecoder, checkTransferEncoding, decodeChunkedBody } from '../../plugin/cgi/chunked-body'

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

t.test('framing errors', async (t) => {
  const cases: Array<[string, string]> = [
    ['no size', '\r\nabc'],
    ['a size that is not hex', 'zz\r\nabc'],
    ['a size of 16 hex digits', `${'1'.repeat(16)}\r\n`],
    ['CR without LF after the size', '3\rabc'],
    ['data longer than its size', '3\r\nabcd\r\n0\r\n\r\n'],
    ['junk in the size line', '3\x01\r\nabc']
  ]
  for (const [what, wire] of cases) {
    t.equal(codeOf(() => decodeChunkedBody(Buffer.from(wire))), 'FST_FASTCGI_BAD_CHUNKED', what)
  }
})

t.test('a body that stops before its last chunk', async (t) => {
  t.equal(codeOf(() => decodeChunkedBody(Buffer.from('5\r\nhel'))), 'FST_FASTCGI_BAD_CHUNKED', 'mid-chunk')
  t.equal(codeOf(() => decodeChunkedBody(Buffer.from('5\r\nhello\r\n'))), 'FST_FASTCGI_BAD_CHUNKED', 'between chunks')
  t.equal(codeOf(() => decodeChunkedBody(Buffer.from('0\r\nX-A: 1\r\n'))), 'FST_FASTCGI_BAD_CHUNKED', 'in the trailers')
})

t.test('extensions and trailers are bounded', async (t) => {
  const decoder = new ChunkedBodyDecoder()
  const longExtension = Buffer.from(`1;${'e'.repeat(20000)}\r\n`)
  t.equal(codeOf(() => decoder.push(longExtension, () => {})), 'FST_FASTCGI_BAD_CHUNKED', 'a 20 KB extension')
  t.equal(codeOf(() => decodeChunkedBody(Buffer.from(`0\r\nX: ${'t'.repeat(20000)}\r\n\r\n`))), 'FST_FASTCGI_BAD_CHUNKED', 'a 20 KB trailer')
})

t.test('Transfer-Encoding: only chunked can be taken off', async (t) => {
  t.equal(codeOf(() => checkTransferEncoding('chunked')), undefined)
  t.equal(codeOf(() => checkTransferEncoding(' Chunked ')), undefined, 'case and spaces do not matter')
  t.equal(codeOf(() => checkTransferEncoding('gzip')), 'FST_FASTCGI_BAD_HEADER')
  t.equal(codeOf(() => checkTransferEncoding('gzip, chunked')), 'FST_FASTCGI_BAD_HEADER', 'a chain')
  t.equal(codeOf(() => checkTransferEncoding('chunked, chunked')), 'FST_FASTCGI_BAD_HEADER', 'chunked twice')
})
