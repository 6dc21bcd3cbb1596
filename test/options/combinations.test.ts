// Combinations that cannot work fail register() with what was expected.
import t from 'tap'
import { normalizeOptions } from '../../plugin/fastify/options'

const W = "server['.php'][0]"
const one = (host: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown => ({ documentRoot: process.cwd(), server: { '.php': [host] }, ...extra })

const cases: Array<[string, unknown, string]> = [
  ['socket together with port', one({ socket: '/run/php.sock', port: 9000 }),
    `${W} sets both socket and port: expected either socket (a unix socket) or host and port (TCP), not both`],
  ['socket together with host', one({ socket: '/run/php.sock', host: '127.0.0.1' }),
    `${W} sets both socket and host: expected either socket (a unix socket) or host and port (TCP), not both`],
  ['a path in host with a port', one({ host: '/run/php.sock', port: 9000 }),
    `${W}.host is a path ("/run/php.sock") but port is set too: expected socket for a unix socket, or an IP address in host`],
  ['no address at all', one({ checkLocal: false }),
    `${W} has no address: expected socket, or host and port, or binPath (the plugin spawns the backend)`],
  ['a TCP host without port', one({ host: '127.0.0.1' }),
    `${W}.port must be set for a TCP backend: expected a port number from 1 to 65535`],
  ['binPath with a remote host', one({ host: '192.168.0.3', port: 9000, binPath: '/usr/bin/php-cgi' }),
    `${W}.host is "192.168.0.3", but binPath spawns the backend on this machine: expected a loopback address (127.0.0.1, ::1, localhost) or no host; for a backend on another machine drop binPath`],
  ['binPath with 0.0.0.0', one({ host: '0.0.0.0', port: 9000, binPath: '/usr/bin/php-cgi' }),
    `${W}.host is "0.0.0.0", but binPath spawns the backend on this machine: expected a loopback address (127.0.0.1, ::1, localhost) or no host; for a backend on another machine drop binPath`],
  ['minProcs > maxProcs', one({ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', minProcs: 5, maxProcs: 2 }),
    `${W}.minProcs (5) is greater than maxProcs (2): expected minProcs <= maxProcs`],
  ['minProcs > the default maxProcs', one({ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', minProcs: 8 }),
    `${W}.minProcs (8) is greater than maxProcs (4): expected minProcs <= maxProcs`],
  ['maxProcs 0', one({ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', maxProcs: 0 }),
    `${W}.maxProcs is 0: expected at least 1 process to spawn`],
  ['maxProcs without binPath', one({ socket: '/run/php.sock', maxProcs: 2 }),
    `${W}.maxProcs needs binPath: it only applies to backends the plugin spawns (expected binPath, or no maxProcs)`],
  ['binEnvironment without binPath', one({ socket: '/run/php.sock', binEnvironment: { A: 'b' } }),
    `${W}.binEnvironment needs binPath: it only applies to backends the plugin spawns (expected binPath, or no binEnvironment)`],
  ['killSignal without binPath', one({ host: '127.0.0.1', port: 9000, killSignal: 'SIGUSR1' }),
    `${W}.killSignal needs binPath: it only applies to backends the plugin spawns (expected binPath, or no killSignal)`],
  ['an authorizer with xSendfile', one({ host: '127.0.0.1', port: 9000, mode: 'authorizer', xSendfile: true }),
    `${W}.xSendfile is true on an authorizer: expected xSendfile only on responders (an authorizer's answer is never a file to send)`],
  ['an authorizer with allowXSendFile', one({ host: '127.0.0.1', port: 9000, mode: 'authorizer', allowXSendFile: true }),
    `${W}.allowXSendFile is true on an authorizer: expected xSendfile only on responders (an authorizer's answer is never a file to send)`],
  ['xSendfileDocroot without xSendfile', one({ socket: '/run/php.sock', xSendfileDocroot: ['/srv/files'] }),
    `${W}.xSendfileDocroot is set but xSendfile is not true: expected xSendfile: true with it (or no xSendfileDocroot)`],
  ['a relative xSendfileDocroot', one({ socket: '/run/php.sock', xSendfile: true, xSendfileDocroot: ['files'] }),
    `${W}.xSendfileDocroot entries must be absolute paths (starting with /), got "files"`],
  ['mapExtensions to a key that is not there', one({ socket: '/run/php.sock' }, { mapExtensions: { '.php3': '.php5' } }),
    'mapExtensions[\'.php3\'] maps to ".php5", which is not a key of server: expected one of ".php"'],
  ['one socket path for two different programs', { server: { '.php': [{ socket: '/run/x.sock', binPath: '/usr/bin/php-cgi' }], '.pl': { perl: { socket: '/run/x.sock', binPath: '/usr/bin/perl app.fcgi' } } } },
    'server[\'.pl\'].perl.socket "/run/x.sock" is already used by server[\'.php\'][0] with a different binPath: expected one socket path per spawned program']
]

for (const [name, options, message] of cases) {
  t.test(name, async (t) => {
    t.throws(() => normalizeOptions(options), { code: 'FST_FASTCGI_INVALID_OPTION', message: 'Invalid fastify-fastcgi option: ' + message })
  })
}

t.test('what is allowed: loopback hosts with binPath, minProcs <= maxProcs, the same program on one socket twice', async (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
    t.doesNotThrow(() => normalizeOptions(one({ host, port: 9000, binPath: '/usr/bin/php-cgi' })), host)
  }
  const config = normalizeOptions(one({ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', minProcs: 2, maxProcs: 2 }))
  t.equal(config.mappings[0]?.hosts[0]?.minProcs, 2)
  t.doesNotThrow(() => normalizeOptions({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/x.sock', binPath: '/usr/bin/php-cgi' }], '.php4': [{ socket: '/run/x.sock', binPath: '/usr/bin/php-cgi' }] } }))
  t.doesNotThrow(() => normalizeOptions(one({ socket: '/run/php.sock', xSendfile: true, xSendfileDocroot: ['/srv/files'] })))
  t.doesNotThrow(() => normalizeOptions(one({ socket: '/run/php.sock' }, { mapExtensions: { '.php3': '.php' } })))
})
