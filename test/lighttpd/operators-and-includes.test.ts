// Every operator of lighttpd's configuration syntax, `if`/`else`/`elif` spellings, and
// `include` / `include_shell` as lighttpd resolves them: relative paths against the main
// file's directory, globs in sorted order (no match: no error; a missing plain file: an error),
// `root` for absolute paths, include_shell reported with its command unless asked to run it.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseLighttpdConfig, parseLighttpdFile } from '../../plugin/lighttpd'
import { makeTempDir } from '../helpers/tmp'

const lines = (...l: string[]): string => l.join('\n') + '\n'
const PHP = 'fastcgi.server = ( ".php" => (( "socket" => "/run/php.sock" )) )'

function write (dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
}

t.test('each condition operator is known; a block holding fastcgi settings is one error naming it', async (t) => {
  for (const op of ['==', '!=', '=~', '!~', '=^', '=$']) {
    const r = parseLighttpdConfig(lines('fastcgi.debug = 1', `$HTTP["url"] ${op} "/app" {`, `  ${PHP}`, '}'))
    t.strictSame(r.errors.map((e) => e.line), [2], `${op}: one error`)
    t.match(r.errors[0]?.message, `conditional block $HTTP["url"] ${op} "/app" { ... } cannot be expressed as plugin options: fastcgi.server at line 3`, op)
    t.strictSame(r.options, { server: {}, debug: true }, `${op}: the rest imports`)
  }
})

t.test('a conditional without fastcgi settings (mimetypes, ssl on a socket) is no error', async (t) => {
  const r = parseLighttpdConfig(lines(
    'var.port = 80',
    '$SERVER["socket"] == "[::]:" + var.port { }',
    'if $HTTP["host"] =^ "static." { server.max-keep-alive-requests = 0 }',
    'else if $HTTP["url"] =$ ".js" { mimetype.assign = ( ".js" => "text/javascript" ) }',
    'elif $HTTP["url"] !~ "^/x" { }',
    'elsif $HTTP["url"] != "/y" { }',
    'elseif $HTTP["url"] =~ "^/z" { }',
    'else { server.tag = "x" }',
    PHP
  ))
  t.strictSame(r.errors, [])
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] } })
})

t.test('else spellings and an else block holding fastcgi settings are reported at their lines', async (t) => {
  const r = parseLighttpdConfig(lines(
    '$HTTP["host"] == "a" { fastcgi.debug = 1 }',
    'elsif $HTTP["host"] == "b" { fastcgi.balance = "hash" }',
    'else { index-file.names = ( "index.php" ) }'
  ))
  t.strictSame(r.errors.map((e) => e.line), [1, 2, 3])
  t.match(r.errors[1]?.message, 'conditional block $HTTP["host"] == "b" { ... }')
  t.match(r.errors[2]?.message, 'else { ... } block cannot be expressed as plugin options: index-file.names at line 3')
})

t.test('an operator lighttpd does not accept in a condition is a syntax error at its line', async (t) => {
  const r = parseLighttpdConfig(lines('$HTTP["url"] = "/x" {', '}', PHP))
  t.strictSame(r.errors.map((e) => e.line), [1])
  t.match(r.errors[0]?.message, "expected a condition operator (== != =~ !~ =^ =$) after $HTTP[\"url\"], found '='")
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] } })
})

t.test('include_shell takes an expression: one error naming the command, no false error on +', async (t) => {
  const r = parseLighttpdConfig(lines('server.port = 80', 'include_shell "/usr/share/lighttpd/use-ipv6.pl " + server.port', PHP))
  t.strictSame(r.errors.map((e) => e.line), [2])
  t.match(r.errors[0]?.message, 'include_shell "/usr/share/lighttpd/use-ipv6.pl 80" was not run')
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] } })
  const text = parseLighttpdConfig(lines('include "conf-enabled/" + "*.conf"', PHP))
  t.match(text.errors[0]?.message, 'include "conf-enabled/*.conf" is not followed in a text import')
})

t.test('include: relative to the main file\'s directory, from nested files too; errors and options carry file:line', async (t) => {
  const dir = makeTempDir(t)
  write(dir, {
    'lighttpd.conf': lines('server.document-root = "/srv/www"', 'include "sub/fastcgi.conf"'),
    // lighttpd resolves this against the main file's directory, not sub/
    'sub/fastcgi.conf': lines('include "backends.conf"', 'fastcgi.debug = 1'),
    'backends.conf': lines('fastcgi.server = ( ".php" =>', '  (( "socket" => "/run/php.sock", "bin_path" => "/x" )) )'),
    'sub/backends.conf': lines('fastcgi.balance = "hash"')
  })
  const main = join(dir, 'lighttpd.conf')
  const r = parseLighttpdFile(main)
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] }, debug: true, documentRoot: '/srv/www' })
  t.strictSame(r.errors.map((e) => [e.file, e.line]), [[join(dir, 'backends.conf'), 2]])
  t.match(r.errors[0]?.message, 'unknown host key "bin_path"')
  t.strictSame(r.imported, [
    { option: 'documentRoot', setting: 'server.document-root', line: 1, file: main },
    { option: 'debug', setting: 'fastcgi.debug', line: 2, file: join(dir, 'sub', 'fastcgi.conf') },
    { option: "server['.php']", setting: 'fastcgi.server[".php"]', line: 1, file: join(dir, 'backends.conf') }
  ])
})

t.test('include globs: sorted, hidden files skipped, braces; no match is fine, a missing file is not', async (t) => {
  const dir = makeTempDir(t)
  write(dir, {
    'lighttpd.conf': lines(
      'include "conf-enabled/*.conf"',
      'include "extra/{b,a}.conf"',
      'include "none/*.conf"',
      'include "missing.conf"'
    ),
    'conf-enabled/20-b.conf': 'fastcgi.server += ( ".b" => (( "socket" => "/b.sock" )) )\n',
    'conf-enabled/10-a.conf': 'fastcgi.server += ( ".a" => (( "socket" => "/a.sock" )) )\n',
    'conf-enabled/.hidden.conf': 'fastcgi.server += ( ".hidden" => (( "socket" => "/h.sock" )) )\n',
    'conf-enabled/30-c.txt': 'this is not included\n',
    'extra/a.conf': 'fastcgi.map-extensions = ( ".php3" => ".php" )\n',
    'extra/b.conf': 'fastcgi.balance = "round-robin"\n'
  })
  const main = join(dir, 'lighttpd.conf')
  const r = parseLighttpdFile(main)
  t.strictSame(Object.keys(r.options.server), ['.a', '.b'], 'glob matches in sorted order, no hidden file')
  t.equal(r.options.balance, 'round-robin')
  t.strictSame(r.options.mapExtensions, { '.php3': '.php' })
  t.strictSame(r.errors, [{ line: 4, file: main, message: `include "missing.conf": include file not found: ${join(dir, 'missing.conf')}` }])
})

t.test('root: absolute include paths are read under it', async (t) => {
  const root = makeTempDir(t)
  write(root, {
    'etc/lighttpd/lighttpd.conf': 'include "/etc/lighttpd/conf-enabled/*.conf"\n',
    'etc/lighttpd/conf-enabled/15-php.conf': PHP + '\n'
  })
  const main = join(root, 'etc', 'lighttpd', 'lighttpd.conf')
  t.strictSame(parseLighttpdFile(main).options, { server: {} }, 'without root: the real /etc/lighttpd/conf-enabled')
  const r = parseLighttpdFile(main, { root })
  t.strictSame(r.errors, [])
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] } })
  t.equal(r.imported[0]?.file, join(root, 'etc', 'lighttpd', 'conf-enabled', '15-php.conf'))
})

t.test('include_shell runs only when asked, in the main file\'s directory; a failing command is an error', async (t) => {
  const dir = makeTempDir(t)
  write(dir, {
    'lighttpd.conf': lines('include_shell "cat generated.conf"', 'include_shell "echo oops >&2; exit 3"'),
    'generated.conf': PHP + '\n'
  })
  const main = join(dir, 'lighttpd.conf')
  const reported = parseLighttpdFile(main)
  t.strictSame(reported.options, { server: {} })
  t.strictSame(reported.errors.map((e) => e.line), [1, 2])
  t.match(reported.errors[0]?.message, 'include_shell "cat generated.conf" was not run')
  const ran = parseLighttpdFile(main, { runIncludeShell: true })
  t.strictSame(ran.options, { server: { '.php': [{ socket: '/run/php.sock' }] } })
  t.strictSame(ran.errors, [{ line: 2, file: main, message: 'include_shell "echo oops >&2; exit 3": exited with 3: oops' }])
  t.equal(ran.imported[0]?.file, 'include_shell "cat generated.conf"')
})

t.test('a file that includes itself stops at the nesting limit with an error', async (t) => {
  const dir = makeTempDir(t)
  write(dir, { 'lighttpd.conf': lines('fastcgi.debug := 1', 'include "lighttpd.conf"') })
  const r = parseLighttpdFile(join(dir, 'lighttpd.conf'))
  t.equal(r.errors.length, 1)
  t.match(r.errors[0]?.message, 'includes nested deeper than 16 levels')
  t.equal(r.options.debug, true)
})
