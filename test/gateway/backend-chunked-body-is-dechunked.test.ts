// A backend that frames its own body (`Transfer-Encoding: chunked`) has the framing taken off,
// as lighttpd does: the client gets the body bytes, framed by the gateway (a Content-Length for
// a whole response, Node's own chunking for a streamed one), and the backend's Content-Length,
// which chunking overrides, is dropped. A body that is malformed or stops before its last
// chunk is a 502 when nothing has gone out yet, and an aborted response after.
import t from 'tap'
import { RecordType, encodeEndRequest, encodeRecord, encodeStream } from '../../plugin/protocol'
import { startFaultServer } from '../helpers/fault-server'
import { request } from '../helpers/http'
import { listenGateway } from '../helpers/listen'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

function codeOf (body: Buffer): string | undefined {
  return (JSON.parse(body.toString()) as { code?: string }).code
}

const noPhp = !hasPhpCgi() && 'php-cgi missing'

function expected (pieces: number, size: number): string {
  let body = ''
  for (let i = 0; i < pieces; i++) body += String.fromCharCode(97 + i % 26).repeat(size)
  return body
}

t.test('php-cgi framing its own body', { skip: noPhp }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, readTimeout: 5000 }] } })

  t.test('a whole response: the body, with the length of the body', async (t) => {
    const res = await request(`${base}/chunked.php`)
    t.equal(res.status, 200)
    t.equal(res.body.toString(), expected(3, 5))
    t.equal(res.headers['content-length'], '15', 'the backend\'s Content-Length: 1 is dropped')
    t.equal(res.headers['transfer-encoding'], undefined)
  })

  // 160 KB: past the 128 KiB the gateway gathers before it streams, however late timers run
  t.test('a streamed response: the body bytes, framed by the gateway', async (t) => {
    const res = await request(`${base}/chunked.php?pieces=8&size=20000&pause=20`)
    t.equal(res.status, 200)
    t.equal(res.aborted, false)
    t.equal(res.body.length, 160000)
    t.ok(res.body.equals(Buffer.from(expected(8, 20000))), 'no chunk sizes among the bytes')
    t.equal(res.headers['content-length'], undefined)
  })

  t.test('unfinished, whole: 502', async (t) => {
    const res = await request(`${base}/chunked.php?unfinished=1`)
    t.equal(res.status, 502)
    t.equal(codeOf(res.body), 'FST_FASTCGI_BAD_CHUNKED')
  })

  t.test('unfinished, streamed: the response breaks off', async (t) => {
    const res = await request(`${base}/chunked.php?pieces=8&size=20000&pause=20&unfinished=1`, { allowAbort: true })
    t.equal(res.status, 200, 'the head had gone out')
    t.equal(res.aborted, true, 'the client can tell the body is incomplete')
    t.ok(res.body.equals(Buffer.from(expected(8, 20000))), 'with the bytes that were complete')
  })

  const after = await request(`${base}/chunked.php`)
  t.equal(after.body.toString(), expected(3, 5), 'the gateway keeps serving')
})

function stdout (text: string): Buffer {
  return encodeStream(RecordType.STDOUT, 1, Buffer.from(text, 'latin1'))
}
const END = Buffer.concat([encodeRecord(RecordType.STDOUT, 1), encodeEndRequest(1, 0, 0)])

t.test('framing the gateway cannot take off, or a broken one', async (t) => {
  const answers: Record<string, string> = {
    gzip: 'Content-Type: text/plain\r\nTransfer-Encoding: gzip\r\n\r\nxx',
    malformed: 'Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    split: 'Content-Type: text/plain\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    ok: 'Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
  }
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const which = /which=(\w+)/.exec(req.params.find(([name]) => name === 'QUERY_STRING')?.[1] ?? '')?.[1] ?? 'ok'
      await conn.write(Buffer.concat([stdout(answers[which] ?? ''), END]))
    }
  })
  const { base } = await listenGateway(t, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const gzip = await request(`${base}/app?which=gzip`)
  t.equal(gzip.status, 502, 'gzip cannot be passed on as if it were the body')
  t.equal(codeOf(gzip.body), 'FST_FASTCGI_BAD_HEADER')
  const malformed = await request(`${base}/app?which=malformed`)
  t.equal(malformed.status, 502)
  t.equal(codeOf(malformed.body), 'FST_FASTCGI_BAD_CHUNKED')
  const split = await request(`${base}/app?which=split`)
  t.equal(split.status, 502, 'gzip then chunked, said in two headers')
  const ok = await request(`${base}/app?which=ok`)
  t.equal(ok.status, 200)
  t.equal(ok.body.toString(), 'abc')
})
