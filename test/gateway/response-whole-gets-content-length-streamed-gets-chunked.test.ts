// A response that arrives whole (head, body and END_REQUEST in one read) goes out as one
// Buffer with a Content-Length; one whose end comes later streams out chunked. Both carry the
// same bytes. Over real HTTP, so the framing on the wire is what is checked.
import t from 'tap'
import type { Test } from 'tap'
import { RecordType, encodeEndRequest, encodeStream, encodeRecord } from '../../plugin/protocol'
import { startFaultServer } from '../helpers/fault-server'
import type { FaultServerOptions } from '../helpers/fault-server'
import { request } from '../helpers/http'
import type { HttpResponse } from '../helpers/http'
import { listenGateway } from '../helpers/listen'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

const BODY = 'x'.repeat(1000) + '\n'

function stdout (text: string): Buffer {
  return encodeStream(RecordType.STDOUT, 1, Buffer.from(text, 'latin1'))
}

const END = Buffer.concat([encodeRecord(RecordType.STDOUT, 1), encodeEndRequest(1, 0, 0)])

async function gatewayTo (t: Test, behaviour: FaultServerOptions): Promise<string> {
  const backend = await startFaultServer(t, behaviour)
  const { base } = await listenGateway(t, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  return `${base}/app`
}

/** The gateway's answer to a backend that sends `cgi` (head and body), its end, all in one write. */
async function answerToWhole (t: Test, cgi: string): Promise<HttpResponse> {
  const url = await gatewayTo(t, {
    onRequest: async (_req, conn) => {
      await conn.write(Buffer.concat([stdout(cgi), END]))
    }
  })
  return await request(url)
}

t.test('head, body and end in one read: Content-Length, no chunking', async (t) => {
  const url = await gatewayTo(t, {
    onRequest: async (_req, conn) => {
      await conn.write(Buffer.concat([stdout(`Content-Type: text/plain\r\n\r\n${BODY}`), END]))
    }
  })
  for (let i = 0; i < 3; i++) {
    const res = await request(url)
    t.equal(res.status, 200)
    t.equal(res.headers['content-length'], String(BODY.length), `#${i}: the whole length is announced`)
    t.equal(res.headers['transfer-encoding'], undefined, `#${i}: not chunked`)
    t.equal(res.headers['content-type'], 'text/plain')
    t.equal(res.body.toString('latin1'), BODY)
  }
})

t.test('the end in a later read: the body streams out chunked, bytes intact', async (t) => {
  const url = await gatewayTo(t, {
    onRequest: async (_req, conn) => {
      await conn.write(stdout(`Content-Type: text/plain\r\n\r\n${BODY.slice(0, 500)}`))
      await conn.stall(200)
      await conn.write(Buffer.concat([stdout(BODY.slice(500)), END]))
    }
  })
  const res = await request(url)
  t.equal(res.status, 200)
  t.equal(res.headers['transfer-encoding'], 'chunked')
  t.equal(res.headers['content-length'], undefined)
  t.equal(res.body.toString('latin1'), BODY)
})

t.test('a whole response without Content-Type gets none added', async (t) => {
  const res = await answerToWhole(t, 'Status: 200\r\nX-Kind: bare\r\n\r\nno type')
  t.equal(res.status, 200)
  t.equal(res.headers['x-kind'], 'bare')
  t.equal(res.headers['content-type'], undefined, 'the gateway does not invent a media type')
  t.equal(res.body.toString(), 'no type')
})

t.test('a whole response whose Content-Length is short of its body is cut at that length', async (t) => {
  const res = await answerToWhole(t, 'Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nabcdefgh')
  t.equal(res.status, 200)
  t.equal(res.headers['content-length'], '4')
  t.equal(res.body.toString(), 'abcd')
})

t.test('a complete head followed by garbage in the same read is a 502, and the server recovers', async (t) => {
  let n = 0
  const url = await gatewayTo(t, {
    onRequest: async (_req, conn) => {
      if (n++ === 0) {
        await conn.write(Buffer.concat([stdout('Content-Type: text/plain\r\n\r\nhalf'), Buffer.from('\x09garbage!')]))
        return
      }
      await conn.write(Buffer.concat([stdout('Content-Type: text/plain\r\n\r\nok\n'), END]))
    }
  })
  const bad = await request(url)
  t.equal(bad.status, 502, 'the protocol error is the backend\'s')
  const good = await request(url)
  t.equal(good.status, 200)
  t.equal(good.body.toString(), 'ok\n')
})

t.test('php-cgi: a small page gets a Content-Length', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await request(`${base}/hello.php`)
  t.equal(res.status, 200)
  t.equal(res.headers['content-length'], String(res.body.length))
  t.equal(res.headers['transfer-encoding'], undefined)
  t.ok(res.body.length > 0, 'the page has a body')
})
