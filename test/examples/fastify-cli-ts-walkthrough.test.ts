// The README's "A fastify-cli project in TypeScript", followed step by step: its code blocks are
// taken from README.md (and must be examples/fastify-cli-ts verbatim), the packed package is
// installed the way `npm i` lays it out (other dependencies linked from the repository, no
// network), tsc compiles the README's tsconfig.json and app.ts, and the README's run command
// starts fastify-cli with --prefix /site; the plugin spawns php-cgi. Then: PHP answers under the
// prefix, the request past the rate limit is a 429 that PHP never saw, and the Prometheus view
// of the status route counts exactly the requests PHP answered. Stopped by pid.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/package-build'
import { installIntoProject, packPackage } from '../package/packed'
import { spawnTracked } from '../helpers/proc'
import { freePort } from '../helpers/ports'
import { request } from '../helpers/http'

const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const FASTIFY_CLI = join(REPO_ROOT, 'node_modules', 'fastify-cli', 'cli.js')
const EXAMPLE = join(REPO_ROOT, 'examples', 'fastify-cli-ts')
// the README's app.ts spawns php-cgi from where Debian installs it
const PHP_CGI = '/usr/bin/php-cgi'

interface Walkthrough {
  /** the shell lines of the first block (npm init/i, then the line that writes public/index.php) */
  setup: string[]
  tsconfig: string
  appTs: string
  /** the run command's arguments after `npx fastify` */
  startArgs: string[]
}

function readWalkthrough (): Walkthrough {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('### A fastify-cli project in TypeScript')
  if (start < 0) throw new Error('README.md has no "A fastify-cli project in TypeScript" section')
  const end = readme.indexOf('\n#', start + 4)
  const section = readme.slice(start, end < 0 ? undefined : end)
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', text: m[2] ?? '' }))
  const [setup, tsconfig, appTs, run] = blocks
  if (setup === undefined || tsconfig === undefined || appTs === undefined || run === undefined) {
    throw new Error(`expected 4 code blocks in the section, found ${blocks.length}`)
  }
  const runLine = run.text.trim()
  const prefix = 'npx tsc && npx fastify '
  if (!runLine.startsWith(prefix)) throw new Error(`unexpected run command: ${runLine}`)
  return {
    setup: setup.text.trim().split('\n'),
    tsconfig: tsconfig.text,
    appTs: appTs.text,
    startArgs: runLine.slice(prefix.length).split(/\s+/)
  }
}

t.test('the README walkthrough: fastify-cli, TypeScript, --prefix, rate limit, Prometheus', { skip: !existsSync(PHP_CGI) && `${PHP_CGI} missing` }, async (t) => {
  const steps = readWalkthrough()
  t.equal(steps.tsconfig, readFileSync(join(EXAMPLE, 'tsconfig.json'), 'utf8'), 'README tsconfig.json is examples/fastify-cli-ts/tsconfig.json')
  t.equal(steps.appTs, readFileSync(join(EXAMPLE, 'app.ts'), 'utf8'), 'README app.ts is examples/fastify-cli-ts/app.ts')
  const indexLine = steps.setup.find((line) => line.includes('public/index.php'))
  t.ok(indexLine?.includes(`echo '${readFileSync(join(EXAMPLE, 'public', 'index.php'), 'utf8').trim()}'`), 'README index.php is the example one')
  t.ok(steps.setup.some((line) => /^npm i .*fastify-cli.*fastify-fastcgi.*@fastify\/rate-limit/.test(line)), 'README installs the packages')
  t.ok(steps.setup.some((line) => /^npm i -D typescript @types\/node/.test(line)), 'README installs typescript and @types/node')

  // `npm i`: the packed tarball, the rest linked from the repository's node_modules
  const project = installIntoProject(t, packPackage(t))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'site', version: '1.0.0', type: 'commonjs' }, null, 2))
  if (indexLine === undefined) throw new Error('no index.php line')
  const shell = spawnSync('sh', ['-c', indexLine], { cwd: project, encoding: 'utf8', timeout: 30_000 })
  t.equal(shell.status, 0, `${indexLine}: ${shell.stderr}`)
  writeFileSync(join(project, 'tsconfig.json'), steps.tsconfig)
  writeFileSync(join(project, 'app.ts'), steps.appTs)

  // `npx tsc`
  const tsc = spawnSync(process.execPath, [TSC], { cwd: project, encoding: 'utf8', timeout: 300_000 })
  t.equal(tsc.status, 0, `tsc:\n${tsc.stdout}${tsc.stderr}`)
  t.ok(existsSync(join(project, 'dist', 'app.js')), 'dist/app.js built')

  // `npx fastify start --prefix /site -l info dist/app.js`, on a free loopback port
  t.same(steps.startArgs.slice(0, 3), ['start', '--prefix', '/site'])
  const port = await freePort()
  const app = spawnTracked(t, [process.execPath, FASTIFY_CLI, ...steps.startArgs], {
    cwd: project,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FASTIFY_PORT: String(port), FASTIFY_ADDRESS: '127.0.0.1' }
  })
  const deadline = Date.now() + 30_000
  while (!app.output().includes('Server listening at') && Date.now() < deadline) {
    if (app.hasExited()) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(app.output().includes(`Server listening at http://127.0.0.1:${port}`), `listening:\n${app.output()}`)
  const base = `http://127.0.0.1:${port}`

  // max: 5 in the README's app.ts; the 6th in the window is refused
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const res = await request(`${base}/site/index.php`, { timeoutMs: 15_000 })
    statuses.push(res.status)
    if (res.status === 429) t.match(res.body.toString('utf8'), /Rate limit exceeded/, 'the 429 is @fastify/rate-limit\'s')
    if (i === 0) t.match(res.body.toString('utf8'), /^Hello from PHP \d+\.\d+/, 'PHP runs under the prefix')
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429], 'five answered, the sixth rate-limited')
  t.equal((await request(`${base}/index.php`, { timeoutMs: 15_000 })).status, 404, 'nothing outside the prefix')

  const metrics = await request(`${base}/site/fastcgi-status?format=prometheus`, { timeoutMs: 15_000 })
  t.equal(metrics.status, 200, 'the status route is below the prefix and not rate-limited')
  const text = metrics.body.toString('utf8')
  const responses = text.split('\n').filter((line) => line.startsWith('fastcgi_responses_total{'))
  const sum = (statusClass: string): number => responses
    .filter((line) => line.includes(`status_class="${statusClass}"`))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
  t.equal(sum('2xx'), 5, `PHP answered five:\n${responses.join('\n')}`)
  t.equal(sum('4xx'), 0, 'the 429 never reached the gateway')
  t.match(text, /^fastcgi_request_duration_seconds_count\{[^}]*mapping="\.php"[^}]*\} 5$/m, 'the latency histogram counts the five')

  process.kill(app.pid, 'SIGTERM')
  const exit = await Promise.race([app.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))])
  t.not(exit, 'timeout', 'fastify-cli exited after SIGTERM')
})
