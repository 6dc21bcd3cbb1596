// Unknown keys fail register(): a misspelt or lighttpd-style name gets the option it most
// likely meant; anything else lists what was expected. (lighttpd silently ignores a typo
// inside a host entry; the seed warns about exactly that.)
import t from 'tap'
import { normalizeOptions } from '../../plugin/fastify/options'

const host = (extra: Record<string, unknown>): unknown => ({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', ...extra }] } })

const cases: Array<[unknown, RegExp]> = [
  [host({ 'bin-path': '/usr/bin/php-cgi' }), /server\['\.php'\]\[0\]\['bin-path'\] is not a host option; did you mean binPath\?$/],
  [host({ bin_path: '/usr/bin/php-cgi' }), /server\['\.php'\]\[0\]\.bin_path is not a host option; did you mean binPath\?$/],
  [host({ 'allow-x-send-file': true }), /\['allow-x-send-file'\] is not a host option; did you mean allowXSendFile\?$/],
  [host({ 'x-sendfile': true }), /\['x-sendfile'\] is not a host option; did you mean xSendfile\?$/],
  [host({ 'check-local': false }), /did you mean checkLocal\?$/],
  [host({ 'kill-signal': 10 }), /did you mean killSignal\?$/],
  [host({ binpath: '/x' }), /\.binpath is not a host option; did you mean binPath\?$/],
  [host({ dissableTime: 1000 }), /\.dissableTime is not a host option; did you mean disableTime\?$/],
  [host({ frobnicate: 1 }), /\.frobnicate is not a host option \(expected one of: host, port, socket, .*queueTimeout, params\)$/],
  [{ server: { '.php': [{ socket: '/run/php.sock' }] }, 'document-root': '/srv' }, /options\['document-root'\] is not an option; did you mean documentRoot\?$/],
  [{ server: { '.php': [{ socket: '/run/php.sock' }] }, 'map-extensions': {} }, /did you mean mapExtensions\?$/],
  [{ server: { '.php': [{ socket: '/run/php.sock' }] }, servr: {} }, /options\.servr is not an option; did you mean server\?$/],
  [{ server: { '.php': [{ socket: '/run/php.sock' }] }, wibble: 1 }, /options\.wibble is not an option \(expected one of: documentRoot, .*statusUrl, methods, onRequest, preValidation, preHandler, config, rewriteHeaders, onBackendResponse, remoteUser, startupCheck\)$/]
]

for (const [options, message] of cases) {
  t.test(message.source, async (t) => {
    t.throws(() => normalizeOptions(options), { code: 'FST_FASTCGI_INVALID_OPTION', statusCode: 500, message })
  })
}

t.test('fastify\'s own register options are not the plugin\'s unknown keys', async (t) => {
  t.doesNotThrow(() => normalizeOptions({ documentRoot: process.cwd(), prefix: '/x', logLevel: 'warn', server: { '.php': [{ socket: '/run/php.sock' }] } }))
})
