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

t.test('boundary lengths 127, 128 and 70000 round trip, UTF-8 included', async (t) => {
  const pairs: Array<[string, string]> = [['X'.repeat(127), 'y'.repeat(128)], ['BIG', 'z'.repeat(70000)], ['U', 'é€😀'], ['EMPTY', '']]
  t.same(decodeNameValuePairs(encodeNameValuePairs(pairs)), pairs)
})

t.test('a truncated block is a protocol error', async (t) => {
  const buf = encodeNameValuePairs([['NAME', 'value']])
  t.throws(() => decodeNameValuePairs(buf.subarray(0, buf.length - 1)), { code: 'FST_FASTCGI_PROTOCOL' })
})
