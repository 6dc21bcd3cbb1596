// `fastify-fastcgi check lighttpd.conf`: the real bin script, run against a build of the
// plugin made for this test (tsc into a temp dir, so a fresh clone without dist/ works and
// other tests' use of dist/ is left alone).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/tmp'
import { buildPackage, REPO_ROOT as ROOT } from '../helpers/package-build'
import type { PackageBuild } from '../helpers/package-build'
import { parseLighttpdConfig } from '../../plugin/lighttpd'
import { copyDebianConfig, debianConfigMissing } from '../lighttpd/debian-copy'

const FIXTURES = join(ROOT, 'test', 'fixtures', 'lighttpd')

interface Run { status: number | null, stdout: string, stderr: string }

let build: PackageBuild | undefined

function run (args: string[], input?: string): Run {
  if (build === undefined) throw new Error('no build')
  const r = spawnSync(process.execPath, [join(build.root, 'bin', 'fastify-fastcgi.js'), ...args], { input, encoding: 'utf8', timeout: 30_000, env: build.env })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.before(() => { build = buildPackage(t) })

t.test('check prints the imported options as JSON and exits 0', async (t) => {
  const file = join(FIXTURES, '08-php-broken-scriptfilename.conf')
  const r = run(['check', file])
  t.equal(r.status, 0, r.stderr)
  t.strictSame(JSON.parse(r.stdout), parseLighttpdConfig(readFileSync(file, 'utf8')).options)
  t.equal(r.stderr, `${file}: warning: no server.document-root: documentRoot must be given when the plugin is registered\n`)
})

t.test('check prints every error as FILE:LINE: message, the options it could build, and exits 1', async (t) => {
  const file = join(FIXTURES, '10-roadsend-conditional.conf')
  const r = run(['check', file])
  t.equal(r.status, 1)
  // what could be imported is printed all the same (here: nothing, the mapping is conditional)
  t.strictSame(JSON.parse(r.stdout), { server: {} })
  t.match(r.stderr, 'nothing imported\nnot imported:\n')
  t.match(r.stderr, `${file}:6: conditional block $HTTP["url"] =~ "^/myapp/.+\\.php$" { ... } cannot be expressed as plugin options`)
  t.match(r.stderr, '1 error: the configuration was not imported completely')
})

t.test('check validates the imported options with the plugin\'s own validation', async (t) => {
  const dir = makeTempDir(t)
  const file = join(dir, 'lighttpd.conf')
  // the seed's flup example with its bin-path blanked: a remote socket cannot have max-procs
  writeFileSync(file, 'fastcgi.server = ( ".py" => ( "python-fcgi" => ( "socket" => "/tmp/py.sock", "bin-path" => "", "max-procs" => 1 ) ) )\n')
  const r = run(['check', file])
  t.equal(r.status, 1)
  t.match(r.stderr, `${file}: FST_FASTCGI_INVALID_OPTION: Invalid fastify-fastcgi option: server['.py']['python-fcgi'].maxProcs`)
})

t.test('check - reads stdin; unknown host keys are reported with their line', async (t) => {
  const r = run(['check', '-'], 'fastcgi.server = ( ".php" =>\n  (( "socket" => "/run/php.sock",\n     "bin_path" => "/usr/bin/php-cgi" )) )\n')
  t.equal(r.status, 1)
  t.match(r.stderr, '<stdin>:3: fastcgi.server[".php"][0]: unknown host key "bin_path"')
  t.match(r.stderr, 'did you mean "bin-path"?')
})

t.test('usage errors exit 2; an unreadable file exits 2; --help exits 0', async (t) => {
  const none = run([])
  t.equal(none.status, 2)
  t.match(none.stderr, 'usage: fastify-fastcgi check')
  const missing = run(['check', '/nonexistent/lighttpd.conf'])
  t.equal(missing.status, 2)
  t.match(missing.stderr, 'cannot read /nonexistent/lighttpd.conf')
  const help = run(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, 'usage: fastify-fastcgi check')
})

t.test('without a build the command says how to make one', async (t) => {
  const bare = makeTempDir(t)
  mkdirSync(join(bare, 'bin'))
  const copy = join(bare, 'bin', 'fastify-fastcgi.js')
  copyFileSync(join(ROOT, 'bin', 'fastify-fastcgi.js'), copy)
  const file = join(FIXTURES, '05-php-spawned.conf')
  const r = spawnSync(process.execPath, [copy, 'check', file], { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 2)
  t.match(r.stderr, 'build the package first (npm run build)')
})

t.test('check on Debian\'s lighttpd.conf (--root on a copy): follows include, prints what it built next to what it did not', { skip: debianConfigMissing() }, async (t) => {
  const copy = copyDebianConfig(t)
  const r = run(['check', '--root', copy.root, copy.main])
  t.equal(r.status, 1, r.stderr)
  const options = JSON.parse(r.stdout) as { server: Record<string, unknown>, documentRoot?: string }
  t.strictSame(Object.keys(options.server), ['.php'], 'the PHP mapping from conf-enabled/15-fastcgi-php.conf is printed')
  t.equal(options.documentRoot, '/var/www/html')
  t.match(r.stderr, 'imported (the options on stdout):\n')
  t.match(r.stderr, `  ${copy.main}:${copy.lineOf('server.document-root')}: server.document-root -> documentRoot\n`)
  t.match(r.stderr, new RegExp(`  ${copy.php.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: fastcgi\\.server\\["\\.php"\\] -> server\\['\\.php'\\]\n`))
  t.match(r.stderr, `not imported:\n  ${copy.main}:${copy.includeShellLines[0] ?? 0}: include_shell "/usr/share/lighttpd/use-ipv6.pl 80" was not run`)
  t.match(r.stderr, `  ${copy.main}:${copy.includeShellLines[1] ?? 0}: include_shell "/usr/share/lighttpd/create-mime.conf.pl" was not run`)
  t.match(r.stderr, '2 errors: the configuration was not imported completely')
  t.notMatch(r.stderr, "'+'", 'no false syntax error on +')

  const ran = run(['check', '--root', copy.root, '--run-include-shell', copy.main])
  t.equal(ran.status, 0, `with --run-include-shell the import is complete and valid:\n${ran.stderr}`)
  t.strictSame(JSON.parse(ran.stdout), options)
})

t.test('check: unknown flags and a missing file name are usage errors', async (t) => {
  t.equal(run(['check', '--rot', '/x', 'a.conf']).status, 2)
  t.equal(run(['check', '--run-include-shell']).status, 2)
})
