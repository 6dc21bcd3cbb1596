// A backend header whose name is also a member of Object.prototype: `constructor` reaches the
// client with the backend's value only (not with Object's source text beside it); `__proto__`,
// which Fastify's reply headers cannot carry, is dropped and changes nothing else.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { request } from '../helpers/http'

t.test('a header named constructor passes as sent, __proto__ is dropped', async (t) => {
  const backend = await startFaultServer(t, {
    ...faults.rawHeaders('Content-Type: text/plain\r\nConstructor: one\r\n__proto__: a\r\n__proto__: b\r\nX-After: yes\r\n\r\n', 'body\n')
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/x': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await request(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/x`)
  t.equal(res.status, 200)
  t.equal(res.body.toString(), 'body\n')
  const raw: Array<[string, string]> = []
  for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([(res.rawHeaders[i] as string).toLowerCase(), res.rawHeaders[i + 1] as string])
  t.same(raw.filter(([name]) => name === 'constructor'), [['constructor', 'one']], 'constructor: only the backend\'s value')
  t.same(raw.filter(([name]) => name === '__proto__'), [], '__proto__ is not forwarded')
  t.same(raw.map(([name]) => name).filter((name) => /^[0-9]+$/.test(name)), [], 'nor anything it would have made of the headers')
  t.same(raw.filter(([name]) => name === 'x-after'), [['x-after', 'yes']])
})
