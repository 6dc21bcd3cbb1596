// Type tests (compiled by `tsc -p tsconfig.json --noEmit`, never run): correct option objects
// compile; each wrong one carries `@ts-expect-error`, so a mistake that starts to compile
// fails the typecheck ("Unused '@ts-expect-error' directive").
import Fastify from 'fastify'
import fastcgi from '../plugin'
import type { FastcgiHostOptions, FastcgiMapping, FastcgiPluginOptions } from '../plugin'

const app = Fastify()

// ---- correct uses ----
app.register(fastcgi, { server: { '.php': [{ socket: '/run/php/php-fpm.sock' }] } })
app.register(fastcgi, {
  documentRoot: '/srv/www',
  indexFiles: ['index.php'],
  balance: 'round-robin',
  debug: true,
  mapExtensions: { '.php3': '.php' },
  statusUrl: '/fastcgi-status',
  constraints: { host: 'a.example' },
  prefix: '/php',
  methods: ['PROPFIND', 'MKCOL'],
  server: {
    '.php': { php: { binPath: '/usr/bin/php-cgi', socket: '/tmp/php.sock', maxProcs: 2, binEnvironment: { PHP_FCGI_CHILDREN: '4' }, killSignal: 'SIGUSR1' } },
    '/app/': [{ host: '127.0.0.1', port: 9000, checkLocal: false, mode: 'responder', disableTime: 1000, requestBuffering: false }],
    '/auth/': [{ host: '127.0.0.1', port: 9001, mode: 'authorizer', docroot: '/srv/private' }]
  }
})
app.register(fastcgi, { server: { '.cgi': [{ socket: '/run/fcgiwrap.sock', binPath: ['/usr/sbin/fcgiwrap', '-c', '4'], killSignal: 10 }] } })

const host: FastcgiHostOptions = { socket: '/run/php.sock', xSendfile: true, xSendfileDocroot: ['/srv/files'] }
const named: FastcgiMapping = { a: host, b: { host: '127.0.0.1', port: 9000 } }
const listed: FastcgiMapping = [host]
const options: FastcgiPluginOptions = { server: { '.php': named, '.php4': listed } }
app.register(fastcgi, options)
app.register(fastcgi, { server: { '.php': [host] }, spoolDirectory: '/var/spool/gateway', spoolMemoryLimit: 65536, spoolMemoryTotal: 16 * 1024 * 1024, responseSpoolLimit: 0, clientBodyTimeout: 30000 })

// ---- wrong uses ----
// @ts-expect-error server is required
const noServer: FastcgiPluginOptions = { documentRoot: '/srv' }
// @ts-expect-error methods is a list
const oneMethod: FastcgiPluginOptions = { server: {}, methods: 'PROPFIND' }
// @ts-expect-error responseSpoolLimit is a number of bytes
const spoolSize: FastcgiPluginOptions = { server: {}, responseSpoolLimit: '1g' }
// @ts-expect-error binPth is not a host option
const typo: FastcgiHostOptions = { socket: '/x', binPth: '/usr/bin/php-cgi' }
// @ts-expect-error lighttpd's dashed names are not option names
const dashed: FastcgiHostOptions = { socket: '/x', 'bin-path': '/usr/bin/php-cgi' }
// @ts-expect-error port is a number
const portString: FastcgiHostOptions = { host: '127.0.0.1', port: '9000' }
// @ts-expect-error checkLocal is a boolean, not lighttpd's "disable"
const checkLocalString: FastcgiHostOptions = { socket: '/x', checkLocal: 'disable' }
// @ts-expect-error mode is 'responder' or 'authorizer'
const badMode: FastcgiHostOptions = { socket: '/x', mode: 'filter' }
// @ts-expect-error killSignal names are NodeJS signal names
const badSignal: FastcgiHostOptions = { socket: '/x', binPath: '/bin/x', killSignal: 'SIGNOPE' }
// @ts-expect-error binEnvironment values are strings
const envNumber: FastcgiHostOptions = { socket: '/x', binPath: '/bin/x', binEnvironment: { PHP_FCGI_CHILDREN: 4 } }
// @ts-expect-error balance is one of lighttpd's algorithms
const badBalance: FastcgiPluginOptions = { server: {}, balance: 'random' }
// @ts-expect-error a mapping is a list or named backends, not a socket path
const badMapping: FastcgiPluginOptions = { server: { '.php': '/run/php.sock' } }
// @ts-expect-error requestBuffering is a boolean
const bufferingString: FastcgiHostOptions = { socket: '/x', requestBuffering: 'off' }
// @ts-expect-error indexFiles is a list
const indexString: FastcgiPluginOptions = { server: {}, indexFiles: 'index.php' }

app.register(fastcgi, {
  server: {
    // @ts-expect-error register() checks the options too
    '.php': [{ socket: '/x', maxProcs: '2' }]
  }
})

export const unused = [noServer, typo, dashed, portString, checkLocalString, badMode, badSignal, envNumber, badBalance, badMapping, indexString, bufferingString, oneMethod, spoolSize]
