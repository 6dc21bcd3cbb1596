// Recipe "Perl with FCGI" (docs/recipes.md): a script using the FCGI module (libfcgi-perl),
// spawned by the plugin; it accepts on the socket the plugin hands it as fd 0.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PERL_APP, hasPerlFcgi } from '../helpers/libfcgi'
import { makeTempDir } from '../helpers/tmp'

t.test('a Perl FCGI script spawned by the plugin', { skip: !hasPerlFcgi() && 'perl FCGI module (libfcgi-perl) missing' }, async (t) => {
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: process.cwd(),
    server: {
      '/perl/': {
        perl: {
          binPath: PERL_APP,
          socket: join(runDir, 'perl.sock'),
          maxProcs: 2,
          checkLocal: false
        }
      }
    }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  t.equal(app.fastcgi.backends().length, 2, 'two perl processes')

  const get = await app.inject({ url: '/perl/hello' })
  t.equal(get.statusCode, 200)
  t.equal(get.headers['content-type'], 'text/plain')
  t.match(get.body, 'hello from perl\nREQUEST_METHOD=GET\n')
  const post = await app.inject({ method: 'POST', url: '/perl/form', payload: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(post.statusCode, 200)
  t.match(post.body, 'REQUEST_METHOD=POST\nBODY_LENGTH=7\n')
})
