// A malformed CGI header block: a header name that is not a token, or a CR inside a value
// (response splitting), is never passed on: 502, and the next request works.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

import { captureLogs } from '../helpers/logs'

const cases: Array<[string, string]> = [
  ['invalid header name', 'Content-Type: text/plain\r\nBad Name: x\r\n\r\n'],
  ['name with a non-ASCII byte', 'Content-Type: text/plain\r\nX-\u00e9: x\r\n\r\n'],
  ['CR inside a value', 'Content-Type: text/plain\r\nX-Split: a\rSet-Cookie: evil=1\r\n\r\n'],
  ['NUL inside a value', 'Content-Type: text/plain\r\nX-Nul: a\u0000b\r\n\r\n']
]

for (const [what, block] of cases) {
  t.test(`${what} -> 502`, async (t) => {
    const backend = await startFaultServer(t, firstThenOk(faults.rawHeaders(Buffer.from(block, 'latin1'), 'body')))
    const logs = captureLogs()
    const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
    const res = await app.inject({ url: '/app' })
    t.equal(res.statusCode, 502)
    t.equal(res.headers['set-cookie'], undefined, 'nothing of the block went out')
    t.not(res.body, 'body')
    t.ok(logs.lines.some((l) => JSON.stringify(l).includes('FST_FASTCGI_BAD_HEADER')), 'the error is logged')
    const after = await app.inject({ url: '/app' })
    t.equal(after.statusCode, 200, 'a normal request afterwards works')
    t.equal(after.body, 'ok\n')
  })
}
