// The importer on Debian's shipped configuration: lighttpd.conf with its include_shell lines
// and `include "/etc/lighttpd/conf-enabled/*.conf"`, conf-enabled/ holding 10-fastcgi.conf and
// 15-fastcgi-php.conf. The PHP mapping, the document root and the index files are imported,
// each with its file and line; the include_shell commands are reported (not run) unless asked.
import t from 'tap'
import { existsSync } from 'node:fs'
import { parseLighttpdFile } from '../../plugin/lighttpd'
import { copyDebianConfig, debianConfigMissing } from './debian-copy'

const PHP_OPTIONS = {
  '.php': [{
    binPath: '/usr/bin/php-cgi',
    socket: '/run/lighttpd/php.socket',
    maxProcs: 1,
    binEnvironment: { PHP_FCGI_CHILDREN: '4', PHP_FCGI_MAX_REQUESTS: '10000' },
    binCopyEnvironment: ['PATH', 'SHELL', 'USER'],
    brokenScriptfilename: true
  }]
}

t.test('Debian\'s lighttpd.conf with fastcgi and fastcgi-php enabled', { skip: debianConfigMissing() }, async (t) => {
  const copy = copyDebianConfig(t)
  const r = parseLighttpdFile(copy.main, { root: copy.root })
  t.strictSame(r.options, { server: PHP_OPTIONS, documentRoot: '/var/www/html', indexFiles: ['index.php', 'index.html'] })
  t.strictSame(r.imported.map((i) => [i.option, i.file]), [
    ['documentRoot', copy.main], ['indexFiles', copy.main], ["server['.php']", copy.php]
  ], 'each option with the file it came from')
  t.equal(copy.includeShellLines.length, 2, 'Debian ships two include_shell lines')
  t.strictSame(r.errors.map((e) => [e.file, e.line]), copy.includeShellLines.map((line) => [copy.main, line]),
    'the include_shell lines, and nothing else, are not imported')
  t.match(r.errors[0]?.message, 'include_shell "/usr/share/lighttpd/use-ipv6.pl 80" was not run')
  t.match(r.errors[1]?.message, 'include_shell "/usr/share/lighttpd/create-mime.conf.pl" was not run')
  t.notOk(r.errors.some((e) => e.message.includes("'+'")), 'no false syntax error on +')
})

const scripts = ['/usr/share/lighttpd/use-ipv6.pl', '/usr/share/lighttpd/create-mime.conf.pl']
t.test('with runIncludeShell, Debian\'s scripts run and the import is complete', {
  skip: debianConfigMissing() || (scripts.every((s) => existsSync(s)) ? false : 'Debian\'s include_shell scripts are not installed')
}, async (t) => {
  const copy = copyDebianConfig(t)
  const r = parseLighttpdFile(copy.main, { root: copy.root, runIncludeShell: true })
  t.strictSame(r.errors, [], 'use-ipv6.pl\'s $SERVER["socket"] block and the mimetypes are no loss')
  t.strictSame(r.options.server, PHP_OPTIONS)
})
