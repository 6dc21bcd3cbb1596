// A chunked body decodes to the same bytes however its framing looks (chunk sizes, hex case,
// extensions, trailers, bare LF) and however it is cut into reads.
import t from 'tap'
import fc from 'fast-check'
import { ChunkedBodyDecoder, decodeChunkedBody } from '../../plugin/cgi/chunked-body'
import { cutWith, cutsArb, params } from '../fuzz/fuzz-config'

interface Framing { upper: boolean, extension: boolean, bareLf: boolean, trailers: string[] }

function frame (pieces: Buffer[], f: Framing): Buffer {
  const eol = f.bareLf ? '\n' : '\r\n'
  const parts: Buffer[] = []
  for (const piece of pieces) {
    if (piece.length === 0) continue
    const size = f.upper ? piece.length.toString(16).toUpperCase() : piece.length.toString(16)
    parts.push(Buffer.from(`${size}${f.extension ? ';name="v"' : ''}${eol}`), piece, Buffer.from(eol))
  }
  parts.push(Buffer.from(`0${eol}${f.trailers.map((line) => `${line}${eol}`).join('')}${eol}`))
  return Buffer.concat(parts)
}

const framingArb = fc.record({
  upper: fc.boolean(),
  extension: fc.boolean(),
  bareLf: fc.boolean(),
  trailers: fc.array(fc.constantFrom('X-Checksum: 1', 'Expires: never'), { maxLength: 2 })
})

t.test('any framing, any cuts: the same body, and done', async (t) => {
  await fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), framingArb, cutsArb, (arrays, framing, cuts) => {
    const pieces = arrays.map((a) => Buffer.from(a))
    const wire = frame(pieces, framing)
    const decoder = new ChunkedBodyDecoder()
    const out: Buffer[] = []
    for (const part of cutWith(wire, cuts)) decoder.push(part, (data) => out.push(Buffer.from(data)))
    return decoder.done && Buffer.concat(out).equals(Buffer.concat(pieces))
  }), params(1000))
  t.pass('every framing and split decoded to the original bytes')
})

t.test('a whole body at once', async (t) => {
  t.equal(decodeChunkedBody(Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')).toString(), 'hello world')
  t.equal(decodeChunkedBody(Buffer.from('0\r\n\r\n')).length, 0, 'an empty body')
  t.equal(decodeChunkedBody(Buffer.from('3\r\nabc\r\n0\r\n\r\nafter the end')).toString(), 'abc', 'bytes after the end are not body')
})

t.test('data arrives as views of the input: no copy per chunk', async (t) => {
  const wire = Buffer.from('4\r\nabcd\r\n0\r\n\r\n')
  const views: Buffer[] = []
  new ChunkedBodyDecoder().push(wire, (data) => views.push(data))
  t.equal(views.length, 1)
  t.equal(views[0]?.buffer, wire.buffer, 'the piece shares the input\'s memory')
})
