// Every fastcgi.* example of the seed (lighttpd's mod_fastcgi documentation), as lighttpd's
// doc/outdated/fastcgi.txt and wiki print them, imports to the options written out here. The
// seed's extraction lost the lines with only closing parentheses and the IP addresses; the
// fixtures restore them (lighttpd 1.4.69 itself accepts every fixture, see the last test).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseLighttpdConfig } from '../../plugin/lighttpd'
import type { FastcgiPluginOptions } from '../../plugin'
import { findBinary } from '../helpers/php'

const DIR = join(__dirname, '..', 'fixtures', 'lighttpd')
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8')

const PHP_SPAWNED = { socket: '/tmp/php-fastcgi.socket', binPath: '/usr/local/bin/php' }
const PHP_ENV = { PHP_FCGI_CHILDREN: '16', PHP_FCGI_MAX_REQUESTS: '10000' }

const EXPECTED: Record<string, FastcgiPluginOptions> = {
  '01-multiple-extensions.conf': {
    server: {
      '.php': [{ host: '127.0.0.1', port: 1026, binPath: '/usr/local/bin/php' }],
      '.php4': [{ host: '127.0.0.1', port: 1026 }]
    }
  },
  '02-prefix.conf': {
    server: { '/remote_scripts/': [{ host: '192.168.0.3', port: 9000, checkLocal: false, docroot: '/' }] }
  },
  '03-authorizer.conf': {
    server: { '/remote_scripts/': [{ host: '10.0.0.2', port: 9000, docroot: '/path_to_private_docs', mode: 'authorizer' }] }
  },
  '04-load-balancing.conf': {
    server: { '.php': [{ host: '10.0.0.2', port: 1030 }, { host: '10.0.0.3', port: 1030 }] }
  },
  '05-php-spawned.conf': { server: { '.php': [PHP_SPAWNED] } },
  '06-php-bin-environment.conf': { server: { '.php': [{ ...PHP_SPAWNED, binEnvironment: PHP_ENV }] } },
  '07-php-bin-copy-environment.conf': {
    server: { '.php': [{ ...PHP_SPAWNED, binEnvironment: PHP_ENV, binCopyEnvironment: ['PATH', 'SHELL', 'USER'] }] }
  },
  '08-php-broken-scriptfilename.conf': {
    server: { '.php': [{ ...PHP_SPAWNED, binEnvironment: PHP_ENV, binCopyEnvironment: ['PATH', 'SHELL', 'USER'], brokenScriptfilename: true }] }
  },
  '09-roadsend.conf': {
    server: { '.php': { localhost: { host: '127.0.0.1', port: 1026, binPath: '/opt/roadsend/pcc/modules/fastcgi/pcc.fcgi' } } }
  },
  '11-threaded-login.conf': {
    server: {
      '/login': {
        'test.fastcgi.handler': { socket: '/var/lib/lighttpd/sockets/test.fastcgi.socket', checkLocal: false, binPath: '/usr/bin/test.fastcgi', maxProcs: 30 }
      }
    }
  },
  '12-python-flup.conf': {
    server: {
      '.py': { 'python-fcgi': { socket: '/var/lib/lighttpd/sockets/fastcgi.python.socket', binPath: '/var/www/test.py', checkLocal: false, maxProcs: 1 } }
    }
  },
  '13-debug-map-extensions.conf': { server: {}, debug: true, mapExtensions: { '.php3': '.php', '.php4': '.php' } },
  '14-adaptive-spawning.conf': {
    server: { '.php': [{ socket: '/tmp/php.socket', binPath: '/usr/local/bin/php', minProcs: 1, maxProcs: 32, maxLoadPerProc: 4, idleTimeout: 20_000 }] }
  },
  'debian-15-fastcgi-php.conf': {
    server: {
      '.php': [{
        binPath: '/usr/bin/php-cgi',
        socket: '/run/lighttpd/php.socket',
        maxProcs: 1,
        binEnvironment: { PHP_FCGI_CHILDREN: '4', PHP_FCGI_MAX_REQUESTS: '10000' },
        binCopyEnvironment: ['PATH', 'SHELL', 'USER'],
        brokenScriptfilename: true
      }]
    }
  },
  'debian-15-fastcgi-php-fpm.conf': {
    server: { '.php': [{ socket: '/run/php/php-fpm.sock', brokenScriptfilename: true }] }
  }
}

for (const [file, expected] of Object.entries(EXPECTED)) {
  t.test(`${file} imports completely`, async (t) => {
    const result = parseLighttpdConfig(read(file))
    t.same(result.errors, [], 'no errors')
    t.strictSame(result.options, expected)
  })
}

t.test('10-roadsend-conditional.conf: the $HTTP["url"] block is an error at its line, nothing imported', async (t) => {
  const result = parseLighttpdConfig(read('10-roadsend-conditional.conf'))
  t.strictSame(result.options, { server: {} })
  t.equal(result.errors.length, 1)
  t.equal(result.errors[0]?.line, 6)
  t.match(result.errors[0]?.message, /conditional block \$HTTP\["url"\] =~ "\^\/myapp\/\.\+\\\.php\$" \{ \.\.\. \} cannot be expressed/)
  t.match(result.errors[0]?.message, /fastcgi\.server at line 7 inside it was not imported/)
})

t.test('15-module-include.conf: include is an error at its line', async (t) => {
  const result = parseLighttpdConfig(read('15-module-include.conf'))
  t.strictSame(result.options, { server: {} })
  t.strictSame(result.errors.map((e) => e.line), [2])
  t.match(result.errors[0]?.message, /include "conf\.d\/fastcgi\.conf" is not followed/)
})

t.test('the seed text as extracted (closing lines lost) is refused with the line of the unclosed list, never guessed', async (t) => {
  // verbatim from the seed: "Multiple extensions for the same host"
  const seedText = [
    'fastcgi.server = (',
    '  ".php" =>',
    '  (( "host" => "", ',
    '     "port" => 1026,',
    '      "bin-path" => "/usr/local/bin/php" ',
    '  ".php4" =>',
    '  (( "host" => "",',
    '     "port" => 1026'
  ].join('\n')
  const result = parseLighttpdConfig(seedText)
  t.strictSame(result.options, { server: {} })
  t.strictSame(result.errors, [{ line: 6, message: 'expected \',\' or \')\' in the list opened at line 3, found the string ".php4"' }])
  // and the structure template with its <placeholders>
  const template = parseLighttpdConfig('fastcgi.server = (\n  ".php" =>\n  ( <extension> => 1 ))')
  t.equal(template.errors[0]?.line, 3)
  t.match(template.errors[0]?.message, /unexpected character "<"/)
})

t.test('the seed\'s blanked hosts behave as lighttpd: a blank host is no host', async (t) => {
  const result = parseLighttpdConfig('fastcgi.server = ( ".php" => (( "host" => "", "port" => 1026, "bin-path" => "/usr/local/bin/php" )) )')
  t.same(result.errors, [])
  t.strictSame(result.options.server, { '.php': [{ port: 1026, binPath: '/usr/local/bin/php' }] })
})

const lighttpd = findBinary('lighttpd')
t.test('lighttpd 1.4 accepts every fixture (lighttpd -p)', { skip: lighttpd === undefined && 'lighttpd not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ffcgi-lt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const file of [...Object.keys(EXPECTED), '10-roadsend-conditional.conf']) {
    const conf = join(dir, file)
    writeFileSync(conf, `server.document-root = "${dir}"\n${read(file)}`)
    let ok = true
    try { execFileSync(lighttpd as string, ['-p', '-f', conf], { stdio: 'pipe' }) } catch { ok = false }
    t.ok(ok, `lighttpd -p accepts ${file}`)
  }
  t.ok(existsSync(dir))
})
