// A CGI header block larger than headerLimit: 502, and a log line naming the limit.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults, firstThenOk } from '../helpers/fault-server'

import { captureLogs } from '../helpers/logs'

t.test('header block over headerLimit -> 502', async (t) => {
  const block = 'Content-Type: text/plain\r\n' + Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(60)}\r\n`).join('') + '\r\n'
  t.ok(block.length > 2048, 'the block is over the limit')
  const backend = await startFaultServer(t, firstThenOk(faults.rawHeaders(block, 'body')))
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), headerLimit: 2048, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 502)
  t.equal(res.headers['x-filler-0'], undefined, 'no backend header went out')
  t.ok(logs.lines.some((l) => JSON.stringify(l).includes('headerLimit') && JSON.stringify(l).includes('2048')), 'a log line names the limit')

  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
})
