import t from 'tap'
import { RecordDecoder, RecordType, encodeRecord, encodeEndRequest } from '../../plugin/protocol'

type Seen = Array<[number, number, string]>

function decodeAll (chunks: Buffer[]): Seen {
  const seen: Seen = []
  const decoder = new RecordDecoder((type, id, content) => seen.push([type, id, content.toString('latin1')]))
  for (const chunk of chunks) decoder.push(chunk)
  t.ok(decoder.idle, 'nothing is left half-read')
  return seen
}

const stream = Buffer.concat([
  encodeRecord(RecordType.STDOUT, 1, Buffer.from('Status: 200\r\n\r\nhello')),
  encodeRecord(RecordType.STDERR, 1, Buffer.from('warn'), 5),
  encodeRecord(RecordType.STDOUT, 1),
  encodeRecord(RecordType.STDOUT, 1, Buffer.alloc(300, 0x61), 255),
  encodeEndRequest(1, 0, 0)
])
const expected = decodeAll([stream])

t.test('a whole stream in one chunk decodes every record, padding dropped', async (t) => {
  t.same(expected.map(([type]) => type), [RecordType.STDOUT, RecordType.STDERR, RecordType.STDOUT, RecordType.STDOUT, RecordType.END_REQUEST])
  t.equal(expected[1]?.[2], 'warn')
  t.equal(expected[3]?.[2], 'a'.repeat(300))
})

t.test('one byte at a time gives the same records', async (t) => {
  const bytes: Buffer[] = []
  for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1))
  t.same(decodeAll(bytes), expected)
})

t.test('every split into two chunks gives the same records', async (t) => {
  let mismatches = 0
  for (let cut = 0; cut <= stream.length; cut++) {
    const got = decodeAll([stream.subarray(0, cut), stream.subarray(cut)])
    if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches++
  }
  t.equal(mismatches, 0)
})

t.test('a record version other than 1 is a protocol error', async (t) => {
  const bad = encodeRecord(RecordType.STDOUT, 1, Buffer.from('x'))
  bad[0] = 2
  const decoder = new RecordDecoder(() => {})
  t.throws(() => decoder.push(bad), { code: 'FST_FASTCGI_PROTOCOL' })
})
