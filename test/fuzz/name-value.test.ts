// FastCGI name-value pairs: decode(encode(x)) = x for any pairs of byte strings (1- and
// 4-byte lengths, UTF-8 byte sequences, empty names and values), a cut anywhere inside a pair is a
// ProtocolError, and arbitrary bytes decode or throw ProtocolError, nothing else.
import t from 'tap'
import fc from 'fast-check'
import { decodeNameValuePairs, encodeNameValuePairs } from '../../plugin/protocol'
import type { NameValuePair } from '../../plugin/protocol'
import { codeOf, params } from './fuzz-config'

/** Pairs are byte strings (one code unit per byte): text goes in as its UTF-8 bytes. */
const bytesOf = (text: string): string => Buffer.from(text, 'utf8').toString('latin1')

// strings around the 127/128 length boundary are the interesting ones
const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 140 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 40, maxLength: 70 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 128, max: 3000 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([n, s]) => s.repeat(Math.ceil(n / s.length))) }
).map(bytesOf)
const pairsArb = fc.array(fc.tuple(textArb, textArb), { maxLength: 10 })

t.test('lengths far beyond one record: 63,000 bytes of multi-byte text, and 300,000 of ASCII', async (t) => {
  const pairs: NameValuePair[] = [['A'.repeat(300_000), bytesOf('é€𝄞'.repeat(7_000))], ['', ''], ['x', 'y'.repeat(65_536)]]
  t.same(decodeNameValuePairs(encodeNameValuePairs(pairs)), pairs)
})

t.test('decode(encode(pairs)) = pairs', async (t) => {
  fc.assert(fc.property(pairsArb, (pairs) => {
    const decoded = decodeNameValuePairs(encodeNameValuePairs(pairs))
    return decoded.length === pairs.length && decoded.every(([n, v], i) => n === pairs[i]?.[0] && v === pairs[i]?.[1])
  }), params(2000))
  t.pass('round trips')
})

t.test('each length takes 1 byte below 128 bytes and 4 bytes from 128 on', async (t) => {
  fc.assert(fc.property(fc.tuple(textArb, textArb), ([name, value]) => {
    const n = Buffer.byteLength(name, 'latin1')
    const v = Buffer.byteLength(value, 'latin1')
    const expected = (n < 128 ? 1 : 4) + (v < 128 ? 1 : 4) + n + v
    return encodeNameValuePairs([[name, value]]).length === expected
  }), params(1000))
  t.pass('sizes as the specification says')
})

/** Byte offsets where each encoded pair ends. */
function pairEnds (pairs: readonly NameValuePair[]): Set<number> {
  const ends = new Set<number>([0])
  let offset = 0
  for (const pair of pairs) {
    offset += encodeNameValuePairs([pair]).length
    ends.add(offset)
  }
  return ends
}

t.test('an encoding cut short: the whole pairs before the cut, or ProtocolError inside a pair', async (t) => {
  fc.assert(fc.property(pairsArb.filter((p) => p.length > 0), fc.nat(), (pairs, at) => {
    const whole = encodeNameValuePairs(pairs)
    if (whole.length === 0) return true
    const cut = at % whole.length
    const ends = pairEnds(pairs)
    try {
      const got = decodeNameValuePairs(whole.subarray(0, cut))
      return ends.has(cut) && got.length === [...ends].filter((e) => e > 0 && e <= cut).length
    } catch (err) {
      return !ends.has(cut) && codeOf(err) === 'FST_FASTCGI_PROTOCOL'
    }
  }), params(2000))
  t.pass('truncation is always detected')
})

t.test('arbitrary bytes decode or throw FST_FASTCGI_PROTOCOL, and nothing absurd is allocated', async (t) => {
  const garbageArb = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
    // 4-byte lengths announcing up to 2 GiB
    fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 64 })).map(([a, b, rest]) => {
      const buf = Buffer.alloc(8 + rest.length)
      buf.writeUInt32BE(a, 0)
      buf.writeUInt32BE(b, 4)
      buf.set(rest, 8)
      return buf
    })
  )
  let threw = 0
  fc.assert(fc.property(garbageArb, (bytes) => {
    const before = process.memoryUsage().arrayBuffers
    try {
      const pairs = decodeNameValuePairs(bytes)
      // decoded byte strings never hold more bytes than there were
      return pairs.every(([n, v]) => n.length + v.length <= bytes.length)
    } catch (err) {
      threw++
      return codeOf(err) === 'FST_FASTCGI_PROTOCOL' && process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024
    }
  }), params(3000))
  t.ok(threw > 0, `${threw} garbage inputs rejected`)
})
