import t from 'tap'
import { RecordDecoder, RecordType, Role, decodeNameValuePairs, encodeRequestHead, parseBeginRequestBody } from '../../plugin/protocol'

function records (buf: Buffer): Array<{ type: number, id: number, content: Buffer }> {
  const out: Array<{ type: number, id: number, content: Buffer }> = []
  new RecordDecoder((type, id, content) => out.push({ type, id, content: Buffer.from(content) })).push(buf)
  return out
}

t.test('small params go in one PARAMS record, then the empty PARAMS and STDIN', async (t) => {
  const recs = records(encodeRequestHead(1, Role.RESPONDER, true, [['A', '1'], ['B', '2']], true))
  t.same(recs.map((r) => r.type), [RecordType.BEGIN_REQUEST, RecordType.PARAMS, RecordType.PARAMS, RecordType.STDIN])
  t.same(parseBeginRequestBody(recs[0]!.content), { role: Role.RESPONDER, keepConn: true })
  t.same(decodeNameValuePairs(recs[1]!.content), [['A', '1'], ['B', '2']])
  t.equal(recs[2]!.content.length, 0)
})

t.test('params over 64 KiB are split across records and nothing is lost', async (t) => {
  const big = 'x'.repeat(200_000)
  const recs = records(encodeRequestHead(1, Role.AUTHORIZER, false, [['HTTP_COOKIE', big], ['Z', 'last']], false))
  const params = recs.filter((r) => r.type === RecordType.PARAMS)
  t.ok(params.length >= 5, 'several PARAMS records')
  t.ok(params.every((r) => r.content.length <= 65535))
  t.same(decodeNameValuePairs(Buffer.concat(params.map((r) => r.content))), [['HTTP_COOKIE', big], ['Z', 'last']])
  t.notOk(recs.some((r) => r.type === RecordType.STDIN), 'no STDIN when a body follows')
  t.same(parseBeginRequestBody(recs[0]!.content), { role: Role.AUTHORIZER, keepConn: false })
})

t.test('byte-string params reach the records as the same bytes, in one record and split', async (t) => {
  // what Node hands over for a header whose UTF-8 bytes were `é€` (read as latin1)
  const bytes = Buffer.from('é€', 'utf8')
  const value = bytes.toString('latin1')
  for (const filler of [0, 200_000]) {
    const head = encodeRequestHead(1, Role.RESPONDER, true, [['HTTP_X', value], ['PAD', 'p'.repeat(filler)]], true)
    const params = Buffer.concat(records(head).filter((r) => r.type === RecordType.PARAMS).map((r) => r.content))
    t.ok(params.includes(Buffer.concat([Buffer.from([6, bytes.length]), Buffer.from('HTTP_X'), bytes])), `${filler === 0 ? 'one record' : 'split'}: C3 A9 E2 82 AC sent as they came`)
  }
  t.throws(() => encodeRequestHead(1, Role.RESPONDER, true, [['V', '€']], true), { code: 'FST_FASTCGI_PROTOCOL' }, 'text must be made bytes first')
})
