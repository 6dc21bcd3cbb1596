// A prefix key is a byte prefix of the path, not a path segment (lighttpd 2.2): `/app` takes
// `/application/x` (SCRIPT_NAME `/application`), and `/app/` does not take `/app`.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { makeTempDir } from '../helpers/tmp'

function params (body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

t.test('prefix keys compare bytes, not segments', { skip: !hasLibfcgi() && 'gcc or libfcgi-dev missing' }, async (t) => {
  const env = await startCApp(t, buildCApp('env'))
  const documentRoot = makeTempDir(t)

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot, server: { '/app': [{ ...env.options, checkLocal: false }] } })
  for (const [url, scriptName, pathInfo] of [
    ['/app', '/app', undefined],
    ['/application/x', '/application', '/x'],
    ['/apps', '/apps', undefined],
    ['/app/foo/bar', '/app', '/foo/bar']
  ] as const) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    const p = params(res.body)
    t.equal(p.SCRIPT_NAME, scriptName, `${url} SCRIPT_NAME`)
    t.equal(p.PATH_INFO, pathInfo, `${url} PATH_INFO`)
  }
  t.equal((await app.inject({ url: '/ap' })).statusCode, 404, '/ap is shorter than the key')
  t.equal((await app.inject({ url: '/App/x' })).statusCode, 404, 'case-sensitive')

  const slash = Fastify()
  t.teardown(() => slash.close())
  await slash.register(fastcgi, { documentRoot, server: { '/app/': [{ ...env.options, checkLocal: false }] } })
  t.equal((await slash.inject({ url: '/app' })).statusCode, 404, 'key /app/ does not take /app')
  const res = await slash.inject({ url: '/app/x/y' })
  t.equal(res.statusCode, 200)
  t.equal(params(res.body).SCRIPT_NAME, '/app/x')
  t.equal(params(res.body).PATH_INFO, '/y')
})
