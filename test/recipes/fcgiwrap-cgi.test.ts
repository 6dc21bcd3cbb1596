// Recipe "CGI scripts through fcgiwrap" (docs/recipes.md): fcgiwrap, spawned by the plugin,
// runs the CGI program that SCRIPT_FILENAME names, one process per request.
import t from 'tap'
import { dirname, join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { CGI_SCRIPT, hasFcgiwrap } from '../helpers/libfcgi'
import { findBinary } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('CGI scripts through fcgiwrap', { skip: !hasFcgiwrap() && 'fcgiwrap not installed' }, async (t) => {
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: dirname(CGI_SCRIPT),
    server: {
      '.cgi': {
        fcgiwrap: {
          binPath: `${findBinary('fcgiwrap') as string} -c 4`,
          socket: join(runDir, 'fcgiwrap.sock'),
          maxProcs: 1
        }
      }
    }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)

  const res = await app.inject({ url: '/hello.cgi?q=1' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain')
  t.equal(res.body, 'hello from cgi\nREQUEST_METHOD=GET\nQUERY_STRING=q=1\nSCRIPT_NAME=/hello.cgi\n')
  // checkLocal: a script that is not there is a 404 from the plugin, fcgiwrap is not asked
  const missing = await app.inject({ url: '/nothere.cgi' })
  t.equal(missing.statusCode, 404)
  // four at once (fcgiwrap -c 4)
  const many = await Promise.all(Array.from({ length: 4 }, async (_v, i) => await app.inject({ url: `/hello.cgi?n=${i}` })))
  t.ok(many.every((r, i) => r.statusCode === 200 && r.body.includes(`QUERY_STRING=n=${i}`)))
})
