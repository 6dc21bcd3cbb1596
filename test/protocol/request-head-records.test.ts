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
