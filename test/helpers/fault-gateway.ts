// The shape most fault tests share: a gateway in front of a fault server whose first request
// gets the fault; the client sees `status`, and a normal request afterwards works.
import Fastify from 'fastify'
import type { Test } from 'tap'
import fastcgi from '../../plugin'
import { startFaultServer, firstThenOk } from './fault-server'
import type { FaultBehaviour } from './fault-server'

export async function assertFaultThenRecovery (t: Test, fault: FaultBehaviour, status: number): Promise<void> {
  const backend = await startFaultServer(t, firstThenOk(fault))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, status)
  t.equal(res.json().statusCode, status, 'the error body says so too')
  t.ok(backend.connectionCount >= 1, 'the backend was reached')
  const after = await app.inject({ url: '/app' })
  t.equal(after.statusCode, 200, 'a normal request afterwards works')
  t.equal(after.body, 'ok\n')
}
