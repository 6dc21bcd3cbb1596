// RecordDecoder under arbitrary input. Against a whole-buffer reference parser: any
// fragmentation of any byte stream gives the same records as the reference, in order, and
// fails (only with FST_FASTCGI_PROTOCOL) exactly where the reference meets a bad version.
import t from 'tap'
import fc from 'fast-check'
import { HEADER_LENGTH, RecordDecoder, encodeRecord } from '../../plugin/protocol'
import type { RecordType } from '../../plugin/protocol'
import { codeOf, cutWith, cutsArb, params } from './fuzz-config'

interface Rec { type: number, id: number, content: string }
interface Outcome { records: Rec[], error: string | undefined, idle: boolean }

/** The whole buffer at once, the simplest way: what the streaming decoder must match. */
function reference (buf: Buffer): Outcome {
  const records: Rec[] = []
  let offset = 0
  while (offset < buf.length) {
    if (buf.length - offset < HEADER_LENGTH) return { records, error: undefined, idle: false }
    if (buf[offset] !== 1) return { records, error: 'FST_FASTCGI_PROTOCOL', idle: false }
    const length = buf.readUInt16BE(offset + 4)
    const padding = buf[offset + 6] as number
    if (offset + HEADER_LENGTH + length > buf.length) return { records, error: undefined, idle: false }
    records.push({ type: buf[offset + 1] as number, id: buf.readUInt16BE(offset + 2), content: buf.toString('hex', offset + HEADER_LENGTH, offset + HEADER_LENGTH + length) })
    offset += HEADER_LENGTH + length + padding
  }
  return { records, error: undefined, idle: offset === buf.length }
}

function streamed (chunks: Buffer[]): Outcome & { maxHeld: number } {
  const records: Rec[] = []
  const decoder = new RecordDecoder((type, id, content) => {
    records.push({ type, id, content: content.toString('hex') })
  })
  let maxHeld = 0
  for (const chunk of chunks) {
    try {
      decoder.push(chunk)
    } catch (err) {
      return { records, error: codeOf(err), idle: false, maxHeld }
    }
    // what the decoder keeps between chunks: at most one record's content
    const held = (decoder as unknown as { content?: Buffer }).content?.length ?? 0
    if (held > maxHeld) maxHeld = held
  }
  return { records, error: undefined, idle: decoder.idle, maxHeld }
}

const recordArb = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  content: fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    // long records, up to the 16-bit maximum, cheap to make
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 300, max: 0xffff }), fc.integer({ min: 0, max: 255 })).map(([n, b]) => new Uint8Array(n).fill(b)) }
  ),
  padding: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }))
})
const streamArb = fc.array(recordArb, { maxLength: 12 }).map((recs) => ({
  recs,
  bytes: Buffer.concat(recs.map((r) => encodeRecord(r.type as RecordType, r.id, r.content, r.padding)))
}))

t.test('valid record streams: any fragmentation gives the records as encoded, and ends idle', async (t) => {
  let checked = 0
  fc.assert(fc.property(streamArb, cutsArb, ({ recs, bytes }, cuts) => {
    const got = streamed(cutWith(bytes, cuts))
    const want = recs.map((r) => ({ type: r.type, id: r.id, content: Buffer.from(r.content).toString('hex') }))
    checked++
    return got.error === undefined && got.idle && JSON.stringify(got.records) === JSON.stringify(want) && got.maxHeld <= 0xffff
  }), params(1500))
  t.equal(checked >= 1500, true, `${checked} streams checked`)
})

t.test('a stream cut short: the complete records come out, the decoder is not idle', async (t) => {
  fc.assert(fc.property(streamArb.filter((s) => s.bytes.length > 1), fc.nat(), cutsArb, ({ bytes }, at, cuts) => {
    const truncated = bytes.subarray(0, 1 + (at % (bytes.length - 1)))
    const want = reference(truncated)
    const got = streamed(cutWith(truncated, cuts))
    return got.error === undefined && JSON.stringify(got.records) === JSON.stringify(want.records) && got.idle === want.idle
  }), params(1000))
  t.pass('truncated streams decode to their complete records')
})

// Arbitrary bytes: mostly a valid stream with some bytes overwritten (so that headers with
// version 1 and absurd lengths, ids and types come up), sometimes pure noise.
const garbageArb = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(streamArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([{ bytes }, edits]) => {
    const copy = Buffer.from(bytes)
    if (copy.length > 0) for (const [at, b] of edits) copy[at % copy.length] = b
    return copy
  }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) },
  // noise that starts like a record, so that headers are read from it
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.concat([Buffer.from([1]), Buffer.from(a)])) }
)

t.test('arbitrary bytes: the reference records, and FST_FASTCGI_PROTOCOL (nothing else) exactly where the reference fails', async (t) => {
  let failures = 0
  fc.assert(fc.property(garbageArb, cutsArb, (bytes, cuts) => {
    const want = reference(bytes)
    const got = streamed(cutWith(bytes, cuts))
    if (got.error !== undefined) failures++
    return got.error === want.error &&
      JSON.stringify(got.records) === JSON.stringify(want.records) &&
      (want.error !== undefined || got.idle === want.idle) &&
      got.maxHeld <= 0xffff
  }), params(3000))
  t.ok(failures > 0, `garbage did produce protocol errors (${failures} cases)`)
})

t.test('a handler that throws does not corrupt the decoder for the records already delivered', async (t) => {
  // the connection drops the socket when its handler throws; the decoder must not loop or
  // deliver a record twice when push() is left by an exception
  fc.assert(fc.property(streamArb.filter((s) => s.recs.length > 0), fc.nat(), (s, which) => {
    const throwAt = which % s.recs.length
    let seen = 0
    const decoder = new RecordDecoder(() => {
      if (seen++ === throwAt) throw new Error('handler failed')
    })
    try {
      decoder.push(s.bytes)
    } catch (err) {
      return (err as Error).message === 'handler failed' && seen === throwAt + 1
    }
    return false
  }), params(500))
  t.pass('the exception of the handler comes out of push() once')
})
