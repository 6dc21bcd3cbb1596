// A backend header block with a line that is no header (no colon) or a folded continuation
// line is refused whole: 502, nothing of the block reaches the client, the error is logged,
// and the next request works. Dropping the line, as once done, answered 200 with a header
// block other than the one the backend wrote (a folded Set-Cookie lost its attributes).
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'
import { captureLogs } from '../helpers/logs'

const cases: Array<[string, string, RegExp]> = [
  ['a line without a colon', 'Content-Type: text/plain\r\nSet-Cookie: a=1\r\ngarbage\r\n\r\n', /without a colon/],
  ['a folded Set-Cookie', 'Content-Type: text/plain\r\nSet-Cookie: session=1;\r\n Secure; HttpOnly\r\n\r\n', /folded/],
  ['a tab-folded line holding a colon', 'Set-Cookie: a=1\n\tX-Extra: 2\nContent-Type: text/plain\n\n', /folded/],
  ['an HTTP/ status line after the first', 'Content-Type: text/plain\r\nHTTP/1.1 200 OK\r\n\r\n', /without a colon/]
]

for (const [what, block, message] of cases) {
  t.test(`${what} -> 502`, async (t) => {
    const backend = await startFaultServer(t, firstThenOk(faults.rawHeaders(Buffer.from(block, 'latin1'), 'body')))
    const logs = captureLogs()
    const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
    t.teardown(() => app.close())
    await app.register(fastcgi, { server: { '/app': [{ ...backend.options, checkLocal: false, docroot: '/srv/www' }] } })
    const res = await app.inject({ url: '/app' })
    t.equal(res.statusCode, 502)
    t.equal(res.headers['set-cookie'], undefined, 'nothing of the block went out')
    t.not(res.body, 'body')
    const logged = logs.lines.find((l) => JSON.stringify(l).includes('FST_FASTCGI_BAD_HEADER'))
    t.ok(logged, 'the error is logged')
    t.match(JSON.stringify(logged), message, 'the log says what was wrong')
    const after = await app.inject({ url: '/app' })
    t.equal(after.statusCode, 200, 'a normal request afterwards works')
    t.equal(after.body, 'ok\n')
  })
}
