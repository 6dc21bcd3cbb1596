// php-fpm started by startPhpFpm (own config, pm static) answers over raw FastCGI.
import t from 'tap'
import { join } from 'node:path'
import { hasPhpFpm, startPhpFpm, PHP_FIXTURES } from '../helpers/php'
import { fcgiRequest, parseCgiResponse, scriptParams } from '../helpers/fcgi-client'

if (!hasPhpFpm()) {
  t.plan(0, 'php-fpm is not installed')
} else {
  t.test('php-fpm on a unix socket answers env.php with a clean environment', async (t) => {
    const fpm = await startPhpFpm(t, { children: 2 })
    t.equal(fpm.address.kind, 'unix')
    const res = await fcgiRequest(fpm.address, { params: scriptParams(PHP_FIXTURES, '/env.php?x=y') })
    const cgi = parseCgiResponse(res.stdout)
    t.equal(cgi.status, 200)
    const json = JSON.parse(cgi.body.toString()) as { sapi: string, server: Record<string, unknown> }
    t.equal(json.sapi, 'fpm-fcgi')
    t.equal(json.server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'))
    t.equal(json.server.QUERY_STRING, 'x=y')
    t.notOk('PATH' in json.server, 'clear_env: no process environment in $_SERVER')
    t.match(fpm.log(), /ready to handle connections/)
  })

  t.test('php-fpm on TCP recycles workers after pm.max_requests', async (t) => {
    const fpm = await startPhpFpm(t, { port: 0, children: 1, maxRequests: 2 })
    t.equal(fpm.address.kind, 'tcp')
    const pids: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await fcgiRequest(fpm.address, { params: scriptParams(PHP_FIXTURES, '/pid.php') })
      pids.push(parseCgiResponse(res.stdout).body.toString().trim())
    }
    t.equal(pids[0], pids[1], 'one worker serves two requests')
    t.not(pids[1], pids[2], 'then it is replaced')
    t.equal(new Set(pids).size, 3, 'five requests, three workers')
  })
}
