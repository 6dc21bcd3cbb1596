// Recipe "A C application with libfcgi, multithreaded (FCGX_Accept_r)" (docs/recipes.md):
// the seed's skeleton (test/fixtures/c/threaded.c), spawned by the plugin on a unix socket
// at fd 0, THREADS request threads in one process, stopped with SIGUSR1 as libfcgi expects.
import t from 'tap'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { buildCApp, hasLibfcgi } from '../helpers/libfcgi'
import { makeTempDir } from '../helpers/tmp'

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('the multithreaded FCGX_Accept_r app, spawned by the plugin', { skip: !hasLibfcgi() && 'gcc or libfcgi-dev missing' }, async (t) => {
  const binary = buildCApp('threaded') // gcc -O2 -o threaded threaded.c -lfcgi -lpthread
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: process.cwd(),
    server: {
      '/login': {
        'test.fastcgi.handler': {
          binPath: binary,
          socket: join(runDir, 'test.fastcgi.socket'),
          checkLocal: false,
          maxProcs: 1,
          binEnvironment: { THREADS: '4' },
          killSignal: 'SIGUSR1' as const
        }
      }
    }
  }
  const app = Fastify()
  await app.register(fastcgi, options)
  const pid = app.fastcgi.backends()[0]?.pid as number
  t.type(pid, 'number')

  const res = await app.inject({ url: '/login/user?name=x' })
  t.equal(res.statusCode, 200)
  t.match(res.body, '<title>testcgi</title>')
  t.match(res.body, '<li>SCRIPT_NAME=/login</li>')
  t.match(res.body, '<li>PATH_INFO=/user</li>')
  t.match(res.body, '<li>QUERY_STRING=name=x</li>')
  t.equal(res.headers['x-pid'], String(pid))

  // four slow requests at once are served by different threads of the one process
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: 4 }, async () => await app.inject({ url: '/login?ms=300' })))
  const elapsed = Date.now() - started
  t.ok(answers.every((a) => a.statusCode === 200 && a.headers['x-pid'] === String(pid)))
  t.equal(new Set(answers.map((a) => a.headers['x-thread'])).size, 4, 'four threads answered')
  t.ok(elapsed < 1100, `in parallel (${elapsed} ms for 4 x 300 ms)`)

  // close() sends killSignal (SIGUSR1); the app stops
  await app.close()
  const deadline = Date.now() + 10_000
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(alive(pid), 'stopped by SIGUSR1 at close')
})
