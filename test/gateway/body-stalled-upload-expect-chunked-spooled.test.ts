// More ways for a client to stop sending its body, each answered 408 after clientBodyTimeout
// with its connection closed and nothing left behind: a client that asked for 100-continue and
// then sends nothing, a chunked body (always spooled) that stops mid-chunk, and a body that
// goes to its temp file because spoolMemoryTotal leaves it no memory.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { request } from '../helpers/http'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'
import { waitUntil } from '../helpers/descriptors'

const TIMEOUT = 600
/** node:http's interim answer to Expect: 100-continue */
const INTERIM = /^HTTP\/1\.1 100 Continue\r\n\r\n/


const skip = !hasPhpFpm() && 'php-fpm missing'

for (const [name, head, sent, spoolMemoryTotal] of [
  ['Expect: 100-continue, then no body at all', 'Content-Length: 1000\r\nExpect: 100-continue\r\n', '', undefined],
  ['chunked, stopped mid-chunk', 'Transfer-Encoding: chunked\r\n', `3e8\r\n${'a'.repeat(500)}`, undefined],
  ['spoolMemoryTotal 0: the body in its temp file from the first byte', 'Content-Length: 100000\r\n', 'a'.repeat(1000), 0]
] as const) {
  t.test(`${name}: 408, connection closed, nothing left`, { skip }, async (t) => {
    const fpm = await startPhpFpm(t, { children: 1 })
    const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
    const { base, port } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, spoolDirectory, ...(spoolMemoryTotal === undefined ? {} : { spoolMemoryTotal }), clientBodyTimeout: TIMEOUT, server: { '.php': [fpm.options] } })
    const conn = await rawConnect(t, port)
    await conn.write(`POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n${head}\r\n${sent}`)
    if (spoolMemoryTotal === 0) await waitUntil('the temp file', () => readdirSync(spoolDirectory).length === 1)
    const text = await conn.waitFor((s) => parseResponse(s.replace(INTERIM, '')) !== undefined, TIMEOUT + 10_000)
    if (head.includes('100-continue')) t.match(text, INTERIM, '100 Continue first')
    const last = parseResponse(text.replace(INTERIM, ''))
    t.equal(last?.status, 408, '408 Request Timeout')
    t.match(last?.headers.connection ?? '', /close/i, 'Connection: close')
    await waitUntil('the server closes the connection', () => conn.closed())
    t.ok(conn.closed(), 'the connection is closed')
    await waitUntil('no temp file', () => readdirSync(spoolDirectory).length === 0)
    t.same(readdirSync(spoolDirectory), [], 'no temp file left')
    const hello = await request(`${base}/hello.php`, { timeoutMs: 10_000 })
    t.equal(hello.status, 200, 'the server keeps serving')
  })
}
