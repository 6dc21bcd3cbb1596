// The address notations of other servers (nginx's unix: prefix, a URL, host:port in host) fail
// register() with FST_FASTCGI_INVALID_OPTION saying what to write instead.
import t from 'tap'
import { normalizeOptions } from '../../plugin/fastify/options'

const PREFIX = 'Invalid fastify-fastcgi option: '
const W = "server['.php'][0]"
const root = { documentRoot: '/' }

const cases: Array<[string, Record<string, unknown>, string]> = [
  ["socket with nginx's unix: prefix", { socket: 'unix:/run/php/php-fpm.sock' },
    `${W}.socket is "unix:/run/php/php-fpm.sock", with nginx's 'unix:' prefix: expected the path alone, write socket: '/run/php/php-fpm.sock'`],
  ['host with unix:', { host: 'unix:/run/php/php-fpm.sock' },
    `${W}.host is "unix:/run/php/php-fpm.sock", with nginx's 'unix:' prefix: expected the path alone, write socket: '/run/php/php-fpm.sock'`],
  ['host as an http URL', { host: 'http://127.0.0.1', port: 9000 },
    `${W}.host is "http://127.0.0.1", a URL: expected the address alone (FastCGI is not HTTP, there is no scheme), write host: '127.0.0.1'`],
  ['host as a tcp URL with a port', { host: 'tcp://127.0.0.1:9000' },
    `${W}.host is "tcp://127.0.0.1:9000", a URL: expected the address alone (FastCGI is not HTTP, there is no scheme), write host: '127.0.0.1', port: 9000`],
  ['host:port in host', { host: 'localhost:9000' },
    `${W}.host is "localhost:9000", with a port in it: expected the address alone, write host: 'localhost', port: 9000`],
  ['[::1]:9000 in host', { host: '[::1]:9000' },
    `${W}.host is "[::1]:9000", with a port in it: expected the address alone, write host: '::1', port: 9000`]
]

for (const [name, host, message] of cases) {
  t.test(name, async (t) => {
    t.throws(() => normalizeOptions({ ...root, server: { '.php': [host] } }), { code: 'FST_FASTCGI_INVALID_OPTION', message: PREFIX + message })
  })
}

t.test('plain addresses, IPv6 included, are accepted', async (t) => {
  for (const host of [{ host: '::1', port: 9000 }, { host: '127.0.0.1', port: 9000 }, { host: 'php.internal', port: 9000 }, { socket: '/run/php/php-fpm.sock' }]) {
    t.doesNotThrow(() => normalizeOptions({ ...root, server: { '.php': [host] } }), JSON.stringify(host))
  }
})
