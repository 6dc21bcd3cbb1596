// check-local (the default) as in lighttpd: an authorizer key only runs for files that exist
// under documentRoot, and a missing file is a 404 that nothing else serves. So a guarded prefix
// never falls open to an application route just because no file backs the URL.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'

t.test('check-local authorizer: existing files are authorized, missing ones are 404', async (t) => {
  const root = makeTempDir(t, 'ffcgi-root-')
  mkdirSync(join(root, 'docs'))
  writeFileSync(join(root, 'docs', 'a.txt'), 'a\n')
  const gate = await startFaultServer(t, faults.rawHeaders('Variable-REMOTE_USER: reader\r\n\r\n'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: root, server: { '/docs/': [{ ...gate.options, mode: 'authorizer' }] } })
  let handled = 0
  app.get('/docs/*', async (request) => { handled++; return request.fastcgiVariables })

  const existing = await app.inject({ url: '/docs/a.txt' })
  t.equal(existing.statusCode, 200)
  t.same(existing.json(), { REMOTE_USER: 'reader' })
  t.equal(gate.requests.length, 1)
  t.equal(gate.requests[0]?.param('SCRIPT_FILENAME'), join(root, 'docs', 'a.txt'))

  const missing = await app.inject({ url: '/docs/missing.txt' })
  t.equal(missing.statusCode, 404)
  t.equal(handled, 1, 'the route did not run for the missing file')
  t.equal(gate.requests.length, 1, 'the authorizer was not asked either (as lighttpd)')
})
