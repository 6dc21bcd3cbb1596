// The authorizer matches the normalized path (as lighttpd), but Fastify's router matches the
// request-target as sent. A target whose raw form falls under a guarded key (`/members/../x`,
// `%2e%2e`, `;`, another case or no trailing slash when the router ignores them) is authorized
// as well, so that an application route behind the key is never reached around the authorizer.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import http from 'node:http'

/** GET with the request-target exactly as written (a URL string would be normalized first). */
async function get (port: number, path: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
    req.on('error', reject)
  })
}

t.test('raw request-targets under a guarded key are authorized too', async (t) => {
  const gate = await startFaultServer(t, faults.rawHeaders('Status: 403\r\nContent-Type: text/plain\r\n\r\n', 'denied'))
  for (const caseSensitive of [true, false]) {
    const app = Fastify({ routerOptions: { caseSensitive, ignoreTrailingSlash: !caseSensitive } })
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/members/': [{ ...gate.options, mode: 'authorizer', checkLocal: false }] } })
    const reached: string[] = []
    app.get('/members/*', async (req) => { reached.push(req.url); return 'members area' })
    app.get('/members/', async (req) => { reached.push(req.url); return 'members area' })
    app.get('/public', async () => 'public')
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = (app.server.address() as { port: number }).port

    const targets = ['/members/x', '/members/../public', '/members/%2e%2e/public', '/members/%2E%2E/%2E%2E/public']
    if (!caseSensitive) targets.push('/MEMBERS/x', '/Members/%2e%2e/public', '/members')
    for (const target of targets) {
      const res = await get(port, target)
      t.equal(res.status, 403, `${target} (caseSensitive ${String(caseSensitive)}): the authorizer's answer`)
      t.equal(res.body, 'denied')
    }
    t.same(reached, [], 'the guarded route never ran')
    const open = await get(port, '/public')
    t.equal(open.status, 200, 'an unguarded route is not blocked')
    t.equal(open.body, 'public')
  }
})
