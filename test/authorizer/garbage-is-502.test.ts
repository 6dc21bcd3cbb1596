// Fail closed: an authorizer that answers garbage (not FastCGI, an invalid Status, a status no
// client can be sent) denies with 502; the route behind it never runs.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import type { FaultBehaviour } from '../helpers/fault-server'

const CASES: Array<[string, FaultBehaviour]> = [
  ['bytes that are not FastCGI', faults.garbage()],
  ['an invalid Status', faults.rawHeaders('Status: abc\r\n\r\n')],
  ['a first line that is no header', faults.rawHeaders('hello\r\n\r\n')],
  ['a status above 599', faults.rawHeaders('Status: 999\r\n\r\n')]
]

for (const [name, behaviour] of CASES) {
  t.test(`authorizer sends ${name}: 502`, async (t) => {
    const gate = await startFaultServer(t, behaviour)
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }] } })
    let handled = 0
    app.get('/app/x', async () => { handled++; return 'let through' })
    const res = await app.inject({ url: '/app/x' })
    t.equal(res.statusCode, 502)
    t.notMatch(res.body, 'let through')
    t.equal(handled, 0)
    t.ok(gate.requests.length >= 1, 'the authorizer was asked')
  })
}
