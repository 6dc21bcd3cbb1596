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

function streamed (chunks: Buffer[], ownsInput = false): Outcome & { maxHeld: number } {
  const records: Rec[] = []
  const decoder = new RecordDecoder((type, id, content) => {
    records.push({ type, id, content: content.toString('hex') })
  }, ownsInput)
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

const STDOUT = 6
const STDERR = 7

/** Adjacent non-empty STDOUT or STDERR records of one request joined: one byte stream each. */
function joinStreams (records: Rec[]): Rec[] {
  const out: Rec[] = []
  for (const r of records) {
    const last = out[out.length - 1]
    const stream = (r.type === STDOUT || r.type === STDERR) && r.content !== ''
    if (stream && last !== undefined && last.type === r.type && last.id === r.id && last.content !== '') {
      out[out.length - 1] = { ...last, content: last.content + r.content }
    } else out.push(r)
  }
  return out
}

// a stream rich in STDOUT and STDERR records (the others are what ownsInput leaves alone)
const streamRecordArb = fc.record({
  type: fc.oneof({ weight: 5, arbitrary: fc.constant(STDOUT) }, { weight: 2, arbitrary: fc.constant(STDERR) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  id: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
  content: fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }),
  padding: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }))
})

t.test('ownsInput: the same byte streams, in the same order, whatever the fragmentation', async (t) => {
  let joined = 0
  fc.assert(fc.property(fc.array(streamRecordArb, { maxLength: 16 }), cutsArb, (recs, cuts) => {
    const bytes = Buffer.concat(recs.map((r) => encodeRecord(r.type as RecordType, r.id, r.content, r.padding)))
    // the decoder may move bytes inside the chunks it is given: give it copies, as a socket does
    const chunks = cutWith(bytes, cuts).map((c) => Buffer.from(c))
    const got = streamed(chunks, true)
    const want = reference(bytes)
    if (got.records.length < want.records.length) joined++
    // an empty STDOUT record ends the stream: a piece must never look like one
    const empties = (records: Rec[]): number => records.filter((r) => r.content === '').length
    return got.error === undefined && got.idle && empties(got.records) === empties(want.records) &&
      JSON.stringify(joinStreams(got.records)) === JSON.stringify(joinStreams(want.records))
  }), params(2000))
  t.ok(joined > 0, `records were joined in ${joined} cases`)
})

t.test('ownsInput: the STDOUT records of one chunk come out as one view of that chunk', async (t) => {
  const pieces = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1000 + i, 0x61 + i))
  const chunk = Buffer.concat([
    ...pieces.map((p, i) => encodeRecord(STDOUT as RecordType, 1, p, i % 3)),
    encodeRecord(STDOUT as RecordType, 1),
    encodeRecord(3 as RecordType, 1, Buffer.alloc(8))
  ])
  const seen: Array<{ type: number, content: Buffer }> = []
  new RecordDecoder((type, _id, content) => seen.push({ type, content: Buffer.from(content) }), true).push(chunk)
  t.same(seen.map((r) => [r.type, r.content.length]), [[STDOUT, 8028], [STDOUT, 0], [3, 8]])
  t.ok((seen[0] as { content: Buffer }).content.equals(Buffer.concat(pieces)), 'the bytes of the eight records, in order')
  let sameBuffer = false
  new RecordDecoder((type, _id, content) => { if (type === STDOUT && content.length > 0) sameBuffer = content.buffer === chunk2.buffer }, true).push(chunk2)
  t.ok(sameBuffer, 'a view of the chunk, not a copy')
})
const chunk2 = Buffer.concat([encodeRecord(STDOUT as RecordType, 1, Buffer.from('ab')), encodeRecord(STDOUT as RecordType, 1, Buffer.from('cd'))])

t.test('ownsInput: stream bytes before garbage are handed on, then the protocol error', async (t) => {
  const seen: string[] = []
  const decoder = new RecordDecoder((_type, _id, content) => seen.push(content.toString()), true)
  const chunk = Buffer.concat([encodeRecord(STDOUT as RecordType, 1, Buffer.from('one')), encodeRecord(STDOUT as RecordType, 1, Buffer.from('two')), Buffer.from([9, 9, 9, 9, 9, 9, 9, 9])])
  t.throws(() => decoder.push(chunk), { code: 'FST_FASTCGI_PROTOCOL' })
  t.same(seen, ['onetwo'])
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
