// The way fastify-cli projects are laid out: `fastify start --prefix /site app.js`, app.js loads
// routes/ with @fastify/autoload, and routes/php/index.js registers the plugin, so it answers
// under /site/php (the CLI's prefix, then the folder's). Scripts are looked up below
// documentRoot without the prefix; SCRIPT_NAME keeps it. Against a fresh build of the package
// and php-cgi spawned by the plugin; stopped by pid.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildPackage, REPO_ROOT } from '../helpers/package-build'
import { spawnTracked } from '../helpers/proc'
import { freePort } from '../helpers/ports'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'

const FASTIFY_CLI = join(REPO_ROOT, 'node_modules', 'fastify-cli', 'cli.js')

t.test('fastify start --prefix with an autoloaded routes folder', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const build = buildPackage(t)
  const project = makeTempDir(t, 'ffcgi-cli-autoload-')
  mkdirSync(join(project, 'routes', 'php'), { recursive: true })
  writeFileSync(join(project, 'app.js'), [
    "'use strict'",
    "const path = require('node:path')",
    "const AutoLoad = require('@fastify/autoload')",
    // fastify-cli wants both parameters; opts (which holds the CLI's prefix) is not handed on
    'module.exports = async function (fastify, opts) {',
    "  await fastify.register(AutoLoad, { dir: path.join(__dirname, 'routes') })",
    "  fastify.get('/health', async () => 'ok')",
    '}',
    ''
  ].join('\n'))
  writeFileSync(join(project, 'routes', 'php', 'index.js'), [
    "'use strict'",
    "const path = require('node:path')",
    `const fastcgi = require(${JSON.stringify(build.root)})`,
    'module.exports = async function (fastify, opts) {',
    '  await fastify.register(fastcgi, {',
    `    documentRoot: ${JSON.stringify(PHP_FIXTURES)},`,
    "    indexFiles: ['index.php'],",
    "    statusUrl: '/status',",
    `    server: { '.php': { php: { binPath: ${JSON.stringify(findBinary('php-cgi'))}, socket: path.join(${JSON.stringify(project)}, 'php.sock'), maxProcs: 1 } } }`,
    '  })',
    '}',
    ''
  ].join('\n'))

  const port = await freePort()
  const app = spawnTracked(t, [process.execPath, FASTIFY_CLI, 'start', '-l', 'info', '-a', '127.0.0.1', '-p', String(port), '--prefix', '/site', 'app.js'], { cwd: project, env: build.env })
  const deadline = Date.now() + 30_000
  while (!app.output().includes('Server listening at') && Date.now() < deadline) {
    if (app.hasExited()) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(app.output().includes(`Server listening at http://127.0.0.1:${port}`), `listening:\n${app.output()}`)
  const base = `http://127.0.0.1:${port}`

  const res = await request(`${base}/site/php/env.php/extra?x=1`, { timeoutMs: 15_000 })
  t.equal(res.status, 200, res.body.toString('utf8'))
  const server = (JSON.parse(res.body.toString('utf8')) as { server: Record<string, string> }).server
  t.equal(server.SCRIPT_NAME, '/site/php/env.php', 'SCRIPT_NAME carries both prefixes')
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'), 'the script is found below documentRoot')
  t.equal(server.PATH_INFO, '/extra')
  t.equal(server.REQUEST_URI, '/site/php/env.php/extra?x=1')

  const dir = await request(`${base}/site/php/dir`, { timeoutMs: 15_000 })
  t.equal(dir.status, 301)
  t.equal(dir.headers.location, '/site/php/dir/')
  const index = await request(`${base}/site/php/dir/`, { timeoutMs: 15_000 })
  t.equal(index.body.toString('utf8'), 'dir/index.php\nSCRIPT_NAME=/site/php/dir/index.php\nPATH_INFO=\n')
  t.equal((await request(`${base}/site/php/status`, { timeoutMs: 15_000 })).status, 200, 'the status route is below the prefix')
  t.equal((await request(`${base}/env.php`, { timeoutMs: 15_000 })).status, 404, 'nothing outside the prefix')
  t.equal((await request(`${base}/site/health`, { timeoutMs: 15_000 })).body.toString('utf8'), 'ok')

  process.kill(app.pid, 'SIGTERM')
  const exit = await Promise.race([app.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))])
  t.not(exit, 'timeout', 'fastify-cli exited after SIGTERM')
})
