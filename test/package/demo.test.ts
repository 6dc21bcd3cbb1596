// `npm run demo` (scripts/demo.sh) on a copy of the repository: it builds, starts Fastify and
// serves PHP through php-cgi as well as the Node example app; SIGTERM to its pid stops it.
// The copy links the repository's node_modules, and package-lock.json keeps its time, so the
// script's `npm ci` step is skipped as it is on a machine that already ran it.
import t from 'tap'
import { cpSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/package-build'
import { makeTempDir } from '../helpers/tmp'
import { spawnTracked } from '../helpers/proc'
import { freePort } from '../helpers/ports'
import { request } from '../helpers/http'
import { hasPhpCgi } from '../helpers/php'

t.test('npm run demo serves PHP and the example app', { skip: hasPhpCgi() ? false : 'php-cgi is not installed (npm test installs it as root)' }, async (t) => {
  const root = makeTempDir(t, 'ffcgi-demo-')
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'examples', 'plugin', 'scripts']) {
    cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true, preserveTimestamps: true })
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir')
  const port = await freePort()
  const demo = spawnTracked(t, ['bash', join(root, 'scripts', 'demo.sh')], { cwd: root, env: { ...process.env, PORT: String(port), LOG_LEVEL: 'info' } })

  // the build takes a while on a loaded machine: wait (bounded) for the listening log line
  const deadline = Date.now() + 180_000
  while (!demo.output().includes('Server listening at') && !demo.hasExited() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(demo.output().includes(`Server listening at http://127.0.0.1:${port}`), `the demo listens:\n${demo.output()}`)

  const home = await request(`http://127.0.0.1:${port}/`, { timeoutMs: 15_000 })
  t.match(home.body.toString('utf8'), '/info.php', 'the home page offers the PHP page')
  const php = await request(`http://127.0.0.1:${port}/info.php/extra/path?x=1`, { timeoutMs: 15_000 })
  t.equal(php.status, 200)
  t.match(php.body.toString('utf8'), /<h1>PHP [0-9.]+ via fastify-fastcgi<\/h1>/, 'PHP ran the page')
  t.match(php.body.toString('utf8'), '<tr><th>PATH_INFO</th><td>/extra/path</td></tr>')
  const app = await request(`http://127.0.0.1:${port}/app/hello?name=demo`, { timeoutMs: 15_000 })
  t.equal(app.status, 200)
  t.match(app.body.toString('utf8'), 'Hello from the example FastCGI app')

  process.kill(demo.pid, 'SIGTERM')
  const exit = await Promise.race([demo.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))])
  t.not(exit, 'timeout', 'the demo exits on SIGTERM')
})
