// 502/503/504 bodies tell the client what failed (status, code) but name no socket path,
// address, port or timeout value; those go to the log line of that request (its reqId) with
// the backend's name. A real unix socket with nobody listening (503), a backend that never
// answers (504) and one that hangs up mid-headers (502).
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { captureLog } from '../helpers/log-capture'
import type { LogLine } from '../helpers/log-capture'
import { makeTempDir } from '../helpers/tmp'

/** what names the fault server's address in a message: its socket path or its port */
function addressText (options: { socket: string } | { host: string, port: number }): string {
  return 'socket' in options ? options.socket : `:${String(options.port)}`
}

function errorLine (lines: LogLine[], reqId: unknown): LogLine | undefined {
  return lines.find((l) => l.level === 50 && l.reqId === reqId && typeof l.backend === 'string')
}

t.test('503: nothing listening on the socket', async (t) => {
  const socket = join(makeTempDir(t, 'ffcgi-err-'), 'nobody.sock')
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { server: { '/app': { appsrv: { socket, checkLocal: false, docroot: '/srv/www' } } } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_FASTCGI_CONNECT')
  t.notMatch(res.body, socket, 'the body does not name the socket')
  t.notMatch(res.body, /unix:|\.sock/)
  const request = log.lines.find((l) => l.msg === 'incoming request')
  const line = errorLine(log.lines, request?.reqId)
  t.ok(line, 'an error line for that request')
  t.match(line?.backend, /^appsrv unix:/, 'the log names the backend')
  t.match(line?.msg, socket, 'the log names the socket')
})

t.test('504: the backend never answers', async (t) => {
  const backend = await startFaultServer(t, faults.stallBeforeHeaders())
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { server: { '/app': { slow: { ...backend.options, checkLocal: false, docroot: '/srv/www', readTimeout: 321 } } } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 504)
  t.equal(res.json().code, 'FST_FASTCGI_READ_TIMEOUT')
  t.notMatch(res.body, /321/, 'the body does not give the timeout')
  t.notMatch(res.body, addressText(backend.options), 'nor the address')
  const request = log.lines.find((l) => l.msg === 'incoming request')
  const line = errorLine(log.lines, request?.reqId)
  t.match(line?.backend, /^slow /, 'the log names the backend')
  t.match(line?.msg, /321 ms/, 'and the timeout')
})

t.test('502: the backend hangs up in the middle of its headers', async (t) => {
  const backend = await startFaultServer(t, faults.closeMidHeaders())
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { server: { '/app': [{ ...backend.options, checkLocal: false, docroot: '/srv/www' }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_FASTCGI_PREMATURE_CLOSE')
  const address = addressText(backend.options)
  t.notMatch(res.body, address, 'the body does not name the address')
  const request = log.lines.find((l) => l.msg === 'incoming request')
  const line = errorLine(log.lines, request?.reqId)
  t.match(line?.msg, address, 'the log does')
})
