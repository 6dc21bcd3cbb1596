// A backend that tries to split the response or desynchronize the client connection: CR, NUL,
// other controls or an obs-fold continuation in its header block are a 502 and nothing of the
// block reaches the client; a Content-Length that understates the body never lets the rest
// reach a keep-alive client as another response (it is cut off), one that overstates it aborts
// the connection instead of leaving the client waiting for bytes that would come from the next
// response, and an invalid or contradictory Content-Length is a 502. (CR in a value and an
// invalid name: test/gateway/fault-invalid-header-is-502.test.ts.)
import t from 'tap'
import { faults, startFaultServer } from '../helpers/fault-server'
import { listenWithPlugin, parseResponse, parseResponses, rawConnect } from '../hardening/support'

const INJECTED = 'X-Injected'

t.test('header blocks that would split the response: 502, nothing of them forwarded', async (t) => {
  const blocks: Array<[string, string]> = [
    ['obs-fold continuation line', `Content-Type: text/plain\r\nX-A: a\r\n ${INJECTED}: 1\r\n\r\n`],
    ['tab continuation line', `Content-Type: text/plain\r\nX-A: a\r\n\t${INJECTED}: 1\r\n\r\n`],
    ['CR before CRLF', `Content-Type: text/plain\r\nX-A: a\r\r\n${INJECTED}: 1\r\n\r\n`],
    ['vertical tab', `Content-Type: text/plain\r\nX-A: a\u000b${INJECTED}: 1\r\n\r\n`],
    ['form feed', `Content-Type: text/plain\r\nX-A: a\u000c${INJECTED}: 1\r\n\r\n`],
    ['DEL', `Content-Type: text/plain\r\nX-A: a\u007f${INJECTED}: 1\r\n\r\n`],
    ['CR in Location', `Location: /x\r${INJECTED}: 1\r\n\r\n`],
    ['CR in Status', `Status: 302\r${INJECTED}: 1\r\nLocation: http://e.example/\r\n\r\n`],
    ['space before the colon', `Content-Type: text/plain\r\n${INJECTED} : 1\r\n\r\n`],
    ['NUL in Set-Cookie', `Content-Type: text/plain\r\nSet-Cookie: a=1\u0000${INJECTED}: 1\r\n\r\n`]
  ]
  for (const [what, block] of blocks) {
    const backend = await startFaultServer(t, { ...faults.rawHeaders(block, 'body') })
    const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
    const conn = await rawConnect(t, port)
    await conn.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 10_000)
    t.equal(parseResponse(text)?.status, 502, `${what}: 502`)
    // (the 502's JSON body may quote the bad line in its message: that is text, not a header)
    const head = text.slice(0, text.indexOf('\r\n\r\n') + 2)
    t.notMatch(head, INJECTED, `${what}: nothing of the block reached the client's headers`)
    t.notMatch(head, /\r\nx-a:/i, `${what}: no header of the block reached the client`)
    t.equal(parseResponses(text).length, 1, `${what}: one response`)
    conn.destroy()
  }
})

t.test('Content-Length from the backend frames exactly what the client reads', async (t) => {
  const smuggled = `HTTP/1.1 200 OK\r\n${INJECTED}: 1\r\nContent-Length: 4\r\n\r\nevil`

  await t.test('understated: the body is cut at the announced length, the connection stays in sync', async (t) => {
    const backend = await startFaultServer(t, { ...faults.rawHeaders('Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n', `hello${smuggled}`) })
    const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
    const conn = await rawConnect(t, port)
    await conn.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    const text = await conn.waitFor((s) => parseResponses(s).length >= 2, 10_000)
    const responses = parseResponses(text)
    t.equal(responses.length, 2, 'two requests, two responses')
    t.same(responses.map((r) => [r.status, r.body]), [[200, 'hello'], [200, 'hello']], 'each is exactly the announced body')
    t.notMatch(text, INJECTED, 'the smuggled response never reached the client')
    conn.destroy()
  })

  await t.test('overstated: the connection is aborted, the client never waits on it', async (t) => {
    const backend = await startFaultServer(t, { ...faults.rawHeaders('Content-Type: text/plain\r\nContent-Length: 50\r\n\r\n', 'short') })
    const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
    const conn = await rawConnect(t, port)
    await conn.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    const started = Date.now()
    const text = await conn.waitFor(() => false, 10_000)
    t.ok(conn.closed() && Date.now() - started < 5000, 'closed by the server at once')
    t.equal(parseResponse(text), undefined, 'no complete response')
  })

  for (const [what, value] of [['not a number', 'abc'], ['negative', '-1'], ['contradictory', '5, 6'], ['plus sign', '+5']] as const) {
    await t.test(`${what} Content-Length: 502`, async (t) => {
      const backend = await startFaultServer(t, { ...faults.rawHeaders(`Content-Type: text/plain\r\nContent-Length: ${value}\r\n\r\n`, 'hello') })
      const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
      const conn = await rawConnect(t, port)
      await conn.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
      const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 10_000)
      t.equal(parseResponse(text)?.status, 502)
      conn.destroy()
    })
  }

  await t.test('the same length said twice is one length', async (t) => {
    const backend = await startFaultServer(t, { ...faults.rawHeaders('Content-Type: text/plain\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'hello') })
    const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
    const conn = await rawConnect(t, port)
    await conn.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    const text = await conn.waitFor((s) => parseResponse(s) !== undefined, 10_000)
    const res = parseResponse(text)
    t.equal(res?.status, 200)
    t.equal(res?.body, 'hello')
    t.equal(text.match(/content-length/gi)?.length, 1, 'sent once')
    conn.destroy()
  })
})
