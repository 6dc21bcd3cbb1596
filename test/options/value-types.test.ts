// Wrong types and out-of-range values, one row per option kind: the message names the path,
// says what was expected and shows what was given.
import t from 'tap'
import { normalizeOptions } from '../../plugin/fastify/options'

const host = (extra: Record<string, unknown>): unknown => ({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', ...extra }] } })
const remote = (extra: Record<string, unknown>): unknown => ({ documentRoot: process.cwd(), server: { '.php': [{ host: '127.0.0.1', port: 9000, ...extra }] } })
const top = (extra: Record<string, unknown>): unknown => ({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock' }] }, ...extra })
const W = "server['.php'][0]"

const cases: Array<[string, unknown, string]> = [
  ['port as a string', remote({ port: '9000' }), `${W}.port must be a number, not a string: write port: 9000, got "9000"`],
  ['port not a number', remote({ port: 'http' }), `${W}.port must be a port number from 1 to 65535, got "http"`],
  ['port 0', remote({ port: 0 }), `${W}.port must be a port number from 1 to 65535, got 0`],
  ['port 65536', remote({ port: 65536 }), `${W}.port must be a port number from 1 to 65535, got 65536`],
  ['host not a string', remote({ host: 127 }), `${W}.host must be a string, got 127`],
  ['checkLocal "disable"', host({ checkLocal: 'disable' }), `${W}.checkLocal must be true or false, got "disable"`],
  ['maxProcs negative', host({ maxProcs: -1 }), `${W}.maxProcs must be a whole number >= 0, got -1`],
  ['maxProcs fractional', host({ maxProcs: 1.5 }), `${W}.maxProcs must be a whole number >= 0, got 1.5`],
  ['disableTime negative', host({ disableTime: -5 }), `${W}.disableTime must be a duration in milliseconds from 0 to 2147483647 (about 24.8 days, the longest a Node timer waits), got -5`],
  ['readTimeout a string', remote({ readTimeout: '30s' }), `${W}.readTimeout must be a duration in milliseconds from 0 to 2147483647 (about 24.8 days, the longest a Node timer waits), got "30s"`],
  ['binPath empty', host({ binPath: '  ' }), `${W}.binPath must be a command line (a string, or an array of strings), got "  "`],
  ['binPath empty array', host({ binPath: [] }), `${W}.binPath must be a command line (a string, or an array of strings), got []`],
  ['binEnvironment with a number', host({ binEnvironment: { PHP_FCGI_CHILDREN: 4 } }), `${W}.binEnvironment must be an object of strings, got {"PHP_FCGI_CHILDREN":4}`],
  ['killSignal unknown name', host({ killSignal: 'SIGNOPE' }), `${W}.killSignal must be a signal name (SIGTERM) or number, got "SIGNOPE"`],
  ['mode unknown', remote({ mode: 'filter' }), `${W}.mode must be 'responder' or 'authorizer', got "filter"`],
  ['balance unknown', top({ balance: 'random' }), 'balance must be \'fair\', \'least-connection\', \'round-robin\', \'hash\', \'sticky\', got "random"'],
  ['debug a number', top({ debug: 1 }), 'debug must be true or false, got 1'],
  ['spoolMemoryTotal negative', top({ spoolMemoryTotal: -1 }), 'spoolMemoryTotal must be a whole number >= 0, got -1'],
  ['spoolMemoryTotal a string', top({ spoolMemoryTotal: '64m' }), 'spoolMemoryTotal must be a whole number >= 0, got "64m"'],
  ['responseSpoolLimit fractional', top({ responseSpoolLimit: 1.5 }), 'responseSpoolLimit must be a whole number >= 0, got 1.5'],
  ['responseSpoolLimit a string', top({ responseSpoolLimit: '1g' }), 'responseSpoolLimit must be a whole number >= 0, got "1g"'],
  ['clientBodyTimeout negative', top({ clientBodyTimeout: -1 }), 'clientBodyTimeout must be a duration in milliseconds from 0 to 2147483647 (about 24.8 days, the longest a Node timer waits), got -1'],
  ['clientBodyTimeout a string', top({ clientBodyTimeout: '60s' }), 'clientBodyTimeout must be a duration in milliseconds from 0 to 2147483647 (about 24.8 days, the longest a Node timer waits), got "60s"'],
  ['indexFiles a string', top({ indexFiles: 'index.php' }), 'indexFiles must be an array of strings, got "index.php"'],
  ['indexFiles with an empty name', top({ indexFiles: ['index.php', ''] }), "indexFiles[1] is empty: expected a file name such as 'index.php'"],
  ['statusUrl without /', top({ statusUrl: 'status' }), 'statusUrl must be a URL path starting with /, got "status"'],
  ['server missing', { documentRoot: '/srv' }, 'server must map at least one extension or prefix to its backends: expected { \'.php\': [{ socket: \'/run/php/php-fpm.sock\' }] } or similar, got undefined'],
  ['server empty', { server: {} }, 'server must map at least one extension or prefix to its backends: expected { \'.php\': [{ socket: \'/run/php/php-fpm.sock\' }] } or similar, got {}'],
  ['a mapping with no backend', { server: { '.php': [] } }, "server['.php'] must list at least one backend: expected [{ ...host options }] or { name: { ...host options } }, got []"],
  ['a mapping that is a string', { server: { '.php': '/run/php.sock' } }, "server['.php'] must list at least one backend: expected [{ ...host options }] or { name: { ...host options } }, got \"/run/php.sock\""],
  ['host options directly under the key', { server: { '.php': { socket: '/run/php.sock' } } }, "server['.php'] holds host options directly; wrap them in an array ([{ ... }]) or give the backend a name ({ app: { ... } })"],
  ['a backend that is not an object', { server: { '.php': ['/run/php.sock'] } }, `${W} must be an object of host options ({ socket } or { host, port }, ...), got "/run/php.sock"`],
  ['an empty key', { server: { '': [{ socket: '/run/php.sock' }] } }, "server[''] is not an extension or a prefix: expected a key like '.php' or '/app/'"],
  ['socket too long', { server: { '.php': [{ socket: '/' + 'x'.repeat(120) }] } }, `${W}.socket is too long for a unix socket path: expected at most 107 bytes, got 121`]
]

for (const [name, options, message] of cases) {
  t.test(name, async (t) => {
    t.throws(() => normalizeOptions(options), { code: 'FST_FASTCGI_INVALID_OPTION', message: 'Invalid fastify-fastcgi option: ' + message })
  })
}
