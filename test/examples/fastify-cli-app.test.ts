// examples/fastify-cli/app.js started the way fastify-cli starts an app
// (`fastify start -l info -a 127.0.0.1 -p PORT app.js`), against a fresh build of the package;
// it answers through the example FastCGI app (and php-cgi when installed), then stops by pid
// and takes the backends it spawned with it.
import t from 'tap'
import { join } from 'node:path'
import { buildPackage, REPO_ROOT } from '../helpers/package-build'
import { spawnTracked } from '../helpers/proc'
import { freePort } from '../helpers/ports'
import { request } from '../helpers/http'
import { hasPhpCgi } from '../helpers/php'

const FASTIFY_CLI = join(REPO_ROOT, 'node_modules', 'fastify-cli', 'cli.js')

interface LogLine { level: number, msg: string, backends?: Array<{ name: string, pid: number | null, address: string }> }

function logLines (output: string): LogLine[] {
  return output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine)
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('fastify start runs the example app with the plugin', async (t) => {
  const build = buildPackage(t)
  const port = await freePort()
  const app = spawnTracked(t, [process.execPath, FASTIFY_CLI, 'start', '-l', 'info', '-a', '127.0.0.1', '-p', String(port), join('examples', 'fastify-cli', 'app.js')], { cwd: build.root, env: build.env })

  // fastify-cli logs "Server listening at ..." once the app is up (bounded wait)
  const deadline = Date.now() + 30_000
  while (!app.output().includes('Server listening at') && Date.now() < deadline) {
    if (app.hasExited()) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(app.output().includes(`Server listening at http://127.0.0.1:${port}`), `listening:\n${app.output()}`)

  const started = logLines(app.output()).find((l) => l.msg === 'FastCGI backends started')
  const backends = started?.backends ?? []
  t.ok(backends.some((b) => b.name === 'node-app' && typeof b.pid === 'number'), 'the example app was spawned')

  const res = await request(`http://127.0.0.1:${port}/app/hello?name=cli`, { timeoutMs: 15_000 })
  t.equal(res.status, 200)
  const body = res.body.toString('utf8')
  t.match(body, 'SCRIPT_NAME')
  t.match(body, '/app/hello')
  t.match(body, 'QUERY_STRING')
  t.match(body, 'name=cli')

  if (hasPhpCgi()) {
    t.ok(backends.some((b) => b.name === 'php' && typeof b.pid === 'number'), 'php-cgi was spawned')
    const php = await request(`http://127.0.0.1:${port}/info.php/extra?x=1`, { timeoutMs: 15_000 })
    t.equal(php.status, 200)
    t.match(php.body.toString('utf8'), /<tr><th>PATH_INFO<\/th><td>\/extra<\/td><\/tr>/)
  }

  const status = await request(`http://127.0.0.1:${port}/fastcgi-status`, { timeoutMs: 15_000 })
  t.equal(status.status, 200)

  // stop it by pid, as a process manager would: fastify-cli closes the app, the plugin its backends
  process.kill(app.pid, 'SIGTERM')
  const exit = await Promise.race([app.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))])
  t.not(exit, 'timeout', 'fastify-cli exited after SIGTERM')
  for (const b of backends) {
    if (b.pid === null) continue
    const gone = Date.now() + 10_000
    while (alive(b.pid) && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 50))
    t.notOk(alive(b.pid), `backend ${b.name} (pid ${b.pid}) stopped with the app`)
  }
})
