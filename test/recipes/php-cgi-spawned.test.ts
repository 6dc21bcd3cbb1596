// Recipe "PHP through php-cgi spawned by the plugin" (docs/recipes.md): php-cgi with
// PHP_FCGI_CHILDREN workers under one master, recycled after PHP_FCGI_MAX_REQUESTS, and
// brokenScriptfilename with cgi.fix_pathinfo=1 so that PHP sees PATH_INFO and PHP_SELF.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

/** pids whose parent is `pid` (from /proc/N/stat). */
function childrenOf (pid: number): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) found.push(Number(entry))
    } catch {}
  }
  return found
}

t.test('php-cgi spawned by the plugin', { skip: !hasPhpCgi() && 'php-cgi not installed' }, async (t) => {
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  const phpCgi = findBinary('php-cgi') as string
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: PHP_FIXTURES,
    indexFiles: ['index.php'],
    server: {
      '.php': {
        php: {
          binPath: `${phpCgi} -d cgi.fix_pathinfo=1`,
          socket: join(runDir, 'php.sock'),
          maxProcs: 1,
          binEnvironment: { PHP_FCGI_CHILDREN: '4', PHP_FCGI_MAX_REQUESTS: '500' },
          binCopyEnvironment: ['PATH'],
          brokenScriptfilename: true
        }
      }
    }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)

  const res = await app.inject({ url: '/env.php/extra/path?x=1' })
  t.equal(res.statusCode, 200)
  const { sapi, server } = JSON.parse(res.body) as { sapi: string, server: Record<string, string> }
  t.equal(sapi, 'cgi-fcgi')
  t.equal(server.SCRIPT_NAME, '/env.php')
  t.equal(server.PATH_INFO, '/extra/path')
  t.equal(server.PHP_SELF, '/env.php/extra/path', 'PHP_SELF: cgi.fix_pathinfo=1 with brokenScriptfilename')
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'), 'PHP took the PATH_INFO back off SCRIPT_FILENAME')
  t.equal(server.QUERY_STRING, 'x=1')
  // php-cgi's environment shows through $_SERVER: what binEnvironment/binCopyEnvironment passed
  t.equal(server.PHP_FCGI_MAX_REQUESTS, '500')
  t.equal(server.PATH, process.env.PATH)
  t.equal(server.HOME, undefined, 'only PATH was copied from the gateway\'s environment')

  // one master (the process the plugin spawned) with PHP_FCGI_CHILDREN workers
  const master = app.fastcgi.backends().find((b) => b.name === 'php')?.pid
  t.type(master, 'number')
  let workers: number[] = []
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    workers = childrenOf(master as number)
    if (workers.length === 4) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.equal(workers.length, 4, 'PHP_FCGI_CHILDREN=4 workers under the master')

  // requests are spread over the workers; a few in parallel all succeed
  const pids = await Promise.all(Array.from({ length: 8 }, async () => (await app.inject({ url: '/pid.php' })).body.trim()))
  t.ok(pids.every((pid) => workers.includes(Number(pid))), `answered by the workers: ${pids.join(',')}`)
})
