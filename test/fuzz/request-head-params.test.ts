// The PARAMS records of a request head: whatever the params, the records' contents joined
// decode to the params, every record holds whole pairs (PHP decodes each record on its own),
// and only a pair longer than a record is cut, into full records.
import t from 'tap'
import fc from 'fast-check'
import { RecordDecoder, RecordType, Role, decodeNameValuePairs, encodeNameValuePairs, encodeRequestHead } from '../../plugin/protocol'
import type { NameValuePair } from '../../plugin/protocol'
import { params } from './fuzz-config'

const MAX = 0xffff

/** Pairs are byte strings (one code unit per byte): text goes in as its UTF-8 bytes. */
const bytesOf = (text: string): string => Buffer.from(text, 'utf8').toString('latin1')

const valueArb = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  // big values: around a record's size and beyond it
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1000, max: 140_000 }), fc.constantFrom('a', 'é', '€')).map(([n, c]) => c.repeat(n)) }
).map(bytesOf)
const paramsArb = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }).map(bytesOf), valueArb), { maxLength: 12 })

function paramsRecords (head: Buffer): Buffer[] {
  const records: Buffer[] = []
  const decoder = new RecordDecoder((type, _id, content) => {
    if (type === RecordType.PARAMS && content.length > 0) records.push(Buffer.from(content))
  })
  decoder.push(head)
  return records
}

t.test('PARAMS records hold whole pairs and decode to the params', async (t) => {
  let split = 0
  fc.assert(fc.property(paramsArb, fc.boolean(), (list, withoutBody) => {
    const pairs = list as NameValuePair[]
    const records = paramsRecords(encodeRequestHead(1, Role.RESPONDER, true, pairs, withoutBody))
    if (records.some((r) => r.length > MAX)) return false
    const decoded = decodeNameValuePairs(Buffer.concat(records))
    if (JSON.stringify(decoded) !== JSON.stringify(pairs)) return false
    if (records.length > 1) split++
    // a record that decodes alone holds whole pairs; one that does not must be a full record
    // of a pair longer than a record (or that pair's tail)
    const oversized = pairs.filter((p) => encodeNameValuePairs([p]).length > MAX).length
    let cut = 0
    for (const record of records) {
      try {
        decodeNameValuePairs(record)
      } catch {
        cut++
      }
    }
    return oversized > 0 || cut === 0
  }), params(400))
  t.ok(split > 50, `${split} heads needed several records`)
})

t.test('params of 64 KiB in all never cut a pair: the boundary moves to the pair before', async (t) => {
  const pairs: NameValuePair[] = [['A', 'x'.repeat(40_000)], ['B', 'y'.repeat(40_000)], ['C', 'z'.repeat(10)]]
  const records = paramsRecords(encodeRequestHead(1, Role.RESPONDER, true, pairs, true))
  t.equal(records.length, 2)
  t.same(records.map((r) => decodeNameValuePairs(r).map(([n]) => n)), [['A'], ['B', 'C']])
})
