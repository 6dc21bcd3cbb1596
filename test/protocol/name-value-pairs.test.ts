import t from 'tap'
import { decodeNameValuePairs, encodeNameValuePairs } from '../../plugin/protocol'

t.test('short names and values use one-byte lengths', async (t) => {
  const buf = encodeNameValuePairs([['A', 'bc']])
  t.same([...buf], [1, 2, 0x41, 0x62, 0x63])
})

t.test('lengths of 128 and more use four bytes with the high bit set', async (t) => {
  const value = 'v'.repeat(128)
  const buf = encodeNameValuePairs([['N', value]])
  t.equal(buf[0], 1)
  t.equal(buf.readUInt32BE(1), 0x80000080)
  t.same(decodeNameValuePairs(buf), [['N', value]])
})

t.test('boundary lengths 127, 128 and 70000 round trip, UTF-8 bytes included', async (t) => {
  const utf8Bytes = Buffer.from('é€😀', 'utf8').toString('latin1')
  const pairs: Array<[string, string]> = [['X'.repeat(127), 'y'.repeat(128)], ['BIG', 'z'.repeat(70000)], ['U', utf8Bytes], ['EMPTY', '']]
  t.same(decodeNameValuePairs(encodeNameValuePairs(pairs)), pairs)
})

t.test('names and values are byte strings: each code unit is sent as one byte, unchanged', async (t) => {
  // `é` as Node reads its UTF-8 bytes C3 A9 from a header (latin1): two bytes, never re-encoded
  t.same([...encodeNameValuePairs([['V', '\u00c3\u00a9']])], [1, 2, 0x56, 0xc3, 0xa9])
  t.same([...encodeNameValuePairs([['V', '\u00ff\u0080']])], [1, 2, 0x56, 0xff, 0x80])
  t.same(decodeNameValuePairs(Buffer.from([1, 2, 0x56, 0xc3, 0xa9])), [['V', '\u00c3\u00a9']])
})

t.test('a code unit above 0xff is no byte: refused, never truncated to its low byte', async (t) => {
  t.throws(() => encodeNameValuePairs([['V', '€']]), { code: 'FST_FASTCGI_PROTOCOL' })
  t.throws(() => encodeNameValuePairs([['\u0141', 'x']]), { code: 'FST_FASTCGI_PROTOCOL' })
})

t.test('a truncated block is a protocol error', async (t) => {
  const buf = encodeNameValuePairs([['NAME', 'value']])
  t.throws(() => decodeNameValuePairs(buf.subarray(0, buf.length - 1)), { code: 'FST_FASTCGI_PROTOCOL' })
})
