// The lighttpd configuration syntax the importer understands, and the line numbers of what it refuses.
import t from 'tap'
import { parseLighttpdConfig } from '../../plugin/lighttpd'

const lines = (...l: string[]): string => l.join('\n')

t.test('var. variables, bare references, + on strings, numbers and lists, comments, trailing commas', async (t) => {
  const r = parseLighttpdConfig(lines(
    'var.base = "/srv"   # a comment',
    'sock = base + "/run/" # bare names are var.NAME, as in lighttpd',
    'var.n = 2 + 3',
    'fastcgi.server = ( ".php" => ( "a" => ( "socket" => var.sock + "php.sock", "bin-path" => "/usr/bin/php-cgi",',
    '  "max-procs" => n, "bin-environment" => ( "X" => "x" + 1, ) + ( "Y" => "y" ), ), ), )'
  ))
  t.same(r.errors, [])
  t.strictSame(r.options.server, {
    '.php': { a: { socket: '/srv/run/php.sock', binPath: '/usr/bin/php-cgi', maxProcs: 5, binEnvironment: { X: 'x1', Y: 'y' } } }
  })
})

t.test('+= appends to fastcgi.server, := replaces, = twice is an error naming both lines', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" => (( "host" => "127.0.0.1", "port" => 9000 )) )',
    'fastcgi.server += ( "/app/" => (( "socket" => "/run/app.sock", "check-local" => "disable" )) )',
    'index-file.names = ( "index.php" )',
    'index-file.names += ( "index.html" )',
    'server.document-root = "/srv/www"',
    'fastcgi.balance = "round-robin"',
    'fastcgi.balance := "hash"',
    'fastcgi.debug = 0',
    'fastcgi.debug = 1'
  ))
  t.strictSame(r.options, {
    server: { '.php': [{ host: '127.0.0.1', port: 9000 }], '/app/': [{ socket: '/run/app.sock', checkLocal: false }] },
    balance: 'hash',
    debug: false,
    documentRoot: '/srv/www',
    indexFiles: ['index.php', 'index.html']
  })
  t.strictSame(r.errors, [{ line: 9, message: 'fastcgi.debug is already set at line 8; use += to add to it or := to replace it' }])
})

t.test('+= with an extension that is already there is an error (lighttpd: duplicate array-key)', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" => (( "host" => "127.0.0.1", "port" => 1 )) )',
    'fastcgi.server += (',
    '  ".php" => (( "host" => "127.0.0.1", "port" => 2 )) )'
  ))
  t.strictSame(r.errors, [{ line: 3, message: 'duplicate key ".php" when adding lists' }])
})

t.test('values: enable/disable and friends, seconds -> ms, kill-signal numbers -> names, numeric strings', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" => (( "host" => "127.0.0.1", "port" => "9000",',
    '  "check-local" => "Disabled", "broken-scriptfilename" => 1, "x-sendfile" => "true", "allow-x-send-file" => "enable",',
    '  "fix-root-scriptname" => "false", "tcp-fin-propagate" => "enabled", "upgrade" => 0,',
    '  "disable-time" => 3, "idle-timeout" => 20, "connect-timeout" => 2, "read-timeout" => 30, "write-timeout" => "5",',
    '  "kill-signal" => 10, "listen-backlog" => 64, "strip-request-uri" => "/x/", "x-sendfile-docroot" => ( "/srv/files" ),',
    '  "mode" => "responder", "docroot" => "" )) )'
  ))
  t.same(r.errors, [])
  t.strictSame(r.options.server['.php'], [{
    host: '127.0.0.1',
    port: 9000,
    checkLocal: false,
    brokenScriptfilename: true,
    xSendfile: true,
    allowXSendFile: true,
    fixRootScriptname: false,
    tcpFinPropagate: true,
    upgrade: false,
    disableTime: 3000,
    idleTimeout: 20_000,
    connectTimeout: 2000,
    readTimeout: 30_000,
    writeTimeout: 5000,
    killSignal: 'SIGUSR1',
    listenBacklog: 64,
    stripRequestUri: '/x/',
    xSendfileDocroot: ['/srv/files'],
    mode: 'responder'
  }])
})

t.test('unknown host keys are errors with their line and the likely key (lighttpd ignores them)', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" =>',
    '  (( "socket" => "/run/php.sock",',
    '     "bin_path" => "/usr/bin/php-cgi",',
    '     "max-proc" => 2,',
    '     "binPath" => "/usr/bin/php-cgi",',
    '     "frobnicate" => 1',
    '  ))',
    ')'
  ))
  t.strictSame(r.errors, [
    { line: 3, message: 'fastcgi.server[".php"][0]: unknown host key "bin_path" (lighttpd host keys use dashes, not underscores); did you mean "bin-path"?; lighttpd would ignore it silently' },
    { line: 4, message: 'fastcgi.server[".php"][0]: unknown host key "max-proc"; did you mean "max-procs"?; lighttpd would ignore it silently' },
    { line: 5, message: 'fastcgi.server[".php"][0]: unknown host key "binPath"; did you mean "bin-path"?; lighttpd would ignore it silently' },
    { line: 6, message: 'fastcgi.server[".php"][0]: unknown host key "frobnicate"; lighttpd would ignore it silently' }
  ])
  t.strictSame(r.options.server, { '.php': [{ socket: '/run/php.sock' }] }, 'the known keys are still imported')
})

t.test('wrong value types are errors at the value\'s line, saying what was expected', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" => (( "host" => "127.0.0.1",',
    '  "port" => "abc",',
    '  "check-local" => "maybe",',
    '  "bin-environment" => ( "A", "B" ),',
    '  "bin-copy-environment" => "PATH",',
    '  "kill-signal" => 99,',
    '  "mode" => "filter",',
    '  "max-procs" => 70000 )) )',
    'fastcgi.balance = "random"',
    'fastcgi.debug = "enable"'
  ))
  t.strictSame(r.errors.map((e) => e.line), [2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.match(r.errors[0]?.message, 'fastcgi.server[".php"][0]["port"] must be a number, got the string "abc"')
  t.match(r.errors[1]?.message, '["check-local"] must be "enable" or "disable", got the string "maybe"')
  t.match(r.errors[2]?.message, '["bin-environment"] must be a list of "name" => "value" pairs')
  t.match(r.errors[3]?.message, '["bin-copy-environment"] must be a list of strings ( "a", "b" ), got the string "PATH"')
  t.match(r.errors[4]?.message, '["kill-signal"] 99 is not a signal number')
  t.match(r.errors[5]?.message, 'must be "responder" or "authorizer", got "filter"')
  t.match(r.errors[6]?.message, 'must be a number from 0 to 65535, got 70000')
  t.match(r.errors[7]?.message, 'fastcgi.balance must be one of fair, least-connection, round-robin, hash, sticky, got "random"')
  t.match(r.errors[8]?.message, 'fastcgi.debug must be a number, got the string "enable"')
})

t.test('structure errors: host options without their own ( ), mixed named and unnamed backends', async (t) => {
  const direct = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" =>',
    '  ( "host" => "127.0.0.1", "port" => 1030 ) )'
  ))
  t.equal(direct.errors.length, 1)
  t.equal(direct.errors[0]?.line, 2)
  t.match(direct.errors[0]?.message, 'fastcgi.server[".php"]: unexpected value for "host" (the string "127.0.0.1"); the host options need their own ( ... )')
  const mixed = parseLighttpdConfig(lines(
    'fastcgi.server = ( ".php" => (',
    '  "a" => ( "host" => "127.0.0.1", "port" => 1 ),',
    '  ( "host" => "127.0.0.1", "port" => 2 ) ) )'
  ))
  t.strictSame(mixed.errors.map((e) => e.line), [1])
  t.match(mixed.errors[0]?.message, 'mixes named')
})

t.test('conditionals (with else) holding fastcgi settings, include in a text, include_shell not run and env. are errors with their lines; the rest still imports', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.debug = 1',
    '$HTTP["host"] == "a.example" {',
    '  fastcgi.server = ( ".php" => (( "socket" => "/a.sock" )) )',
    '} else $HTTP["host"] == "b.example" {',
    '  server.document-root = "/b"',
    '} else {',
    '  fastcgi.balance = "hash"',
    '}',
    'include "other.conf"',
    'include_shell "cat x.conf"',
    'var.home = env.HOME',
    'fastcgi.server = ( ".php" => (( "socket" => "/run/php.sock" )) )'
  ))
  t.strictSame(r.errors.map((e) => e.line), [2, 4, 6, 9, 10, 11])
  t.match(r.errors[0]?.message, 'conditional block $HTTP["host"] == "a.example" { ... } cannot be expressed as plugin options: fastcgi.server at line 3 inside it was not imported')
  t.match(r.errors[1]?.message, 'server.document-root at line 5')
  t.match(r.errors[2]?.message, 'else { ... } block')
  t.match(r.errors[3]?.message, 'include "other.conf"')
  t.match(r.errors[4]?.message, 'include_shell "cat x.conf" was not run, so what it prints is not imported: run it with --run-include-shell')
  t.match(r.errors[5]?.message, 'env.HOME: environment variables are not read')
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] }, debug: true })
})

t.test('syntax errors carry the line; parsing goes on with the next statement', async (t) => {
  const r = parseLighttpdConfig(lines(
    'fastcgi.debug = 1',
    'fastcgi.balance "hash"',
    'var.x = undefined_thing + "a"',
    'fastcgi.server = ( ".php" => (( "socket" => "/run/php.sock" )) )'
  ))
  t.strictSame(r.errors, [
    { line: 2, message: 'expected \'=\', \'+=\' or \':=\' after fastcgi.balance, found the string "hash"' },
    { line: 3, message: 'undefined variable undefined_thing (set it first: var.undefined_thing = ...)' }
  ])
  t.strictSame(r.options, { server: { '.php': [{ socket: '/run/php.sock' }] }, debug: true })
  const unterminated = parseLighttpdConfig('fastcgi.debug = 1\nvar.x = "abc\n\n')
  t.strictSame(unterminated.errors, [{ line: 2, message: 'unterminated string' }])
  const unclosed = parseLighttpdConfig('\nfastcgi.server = ( ".php" =>\n (( "socket" => "/x" ))\n')
  t.strictSame(unclosed.errors, [{ line: 2, message: '\'(\' opened at line 2 is not closed with \')\'' }])
  const mismatch = parseLighttpdConfig('var.x = "a" + ( "b" )')
  t.strictSame(mismatch.errors, [{ line: 1, message: 'cannot add a string and a list' }])
})

t.test('an escaped quote in a string is a quote; other backslashes stay (as lighttpd reads them)', async (t) => {
  const r = parseLighttpdConfig('server.document-root = "/srv/\\"q\\"/a\\\\b"')
  t.same(r.errors, [])
  t.equal(r.options.documentRoot, '/srv/"q"/a\\\\b')
})

t.test('the parser never throws: arbitrary text gives options and line-numbered errors', async (t) => {
  const fc = await import('fast-check')
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    const r = parseLighttpdConfig(text)
    const lineCount = text.split('\n').length
    return typeof r.options.server === 'object' && r.errors.every((e) => Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount && e.message.length > 0)
  }), { numRuns: 500 })
  const tokens = ['fastcgi.server', '=', '+=', '(', ')', '"x"', '=>', ',', '1', '$HTTP["url"]', '{', '}', 'var.a', '+', '\n', '#c\n', '"bin-path"', '"socket"']
  fc.assert(fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 40 }), (parts) => {
    const text = parts.join(' ')
    const r = parseLighttpdConfig(text)
    const lineCount = text.split('\n').length
    return r.errors.every((e) => e.line >= 1 && e.line <= lineCount)
  }), { numRuns: 1000 })
  t.pass('no exception')
})
