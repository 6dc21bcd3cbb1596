// At ready, every remote backend is asked FCGI_GET_VALUES once: a backend that cannot be
// reached or does not speak FastCGI gives one warning naming it and the likely fix; real
// FastCGI servers (php-fpm, a libfcgi app that accepts) give none.
import t from 'tap'
import type { Test } from 'tap'
import { createServer } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { captureLog } from '../helpers/log-capture'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import type { LogCapture, LogLine } from '../helpers/log-capture'

const WARN = 40

/** Registers the plugin with `server`, waits for ready, returns the warnings of the start-up check. */
async function readyWith (t: Test, server: Record<string, unknown>): Promise<{ warnings: LogLine[], log: LogCapture }> {
  const log = captureLog('warn')
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: server as never })
  await app.ready()
  return { warnings: log.lines.filter((l) => l.level === WARN && l.msg.startsWith('FastCGI start-up check: ')), log }
}

t.test('php-fpm on a unix socket and on TCP: no warning', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const unix = await startPhpFpm(t)
  const tcp = await startPhpFpm(t, { port: await freePort() })
  const { warnings } = await readyWith(t, { '.php': [unix.options], '.php5': [tcp.options] })
  t.same(warnings, [])
})

t.test('a libfcgi app that accepts: no warning', { skip: !hasLibfcgi() && 'libfcgi missing' }, async (t) => {
  const app = await startCApp(t, buildCApp('hello'))
  const { warnings } = await readyWith(t, { '/c/': { hello: { ...app.options, checkLocal: false } } })
  t.same(warnings, [])
})

t.test('nothing listening on the TCP port', async (t) => {
  const port = await freePort()
  const { warnings } = await readyWith(t, { '.php': { fpm: { host: '127.0.0.1', port } } })
  t.equal(warnings.length, 1, 'one warning')
  const line = warnings[0] as LogLine
  t.match(line.msg, `backend 'fpm' (server['.php'].fpm) at tcp:127.0.0.1:${port}`, 'names the backend, its option and its address')
  t.match(line.msg, /nothing listens on 127\.0\.0\.1:\d+ \(connection refused\): start the FastCGI server/)
  t.match(line.msg, /correct server\['\.php'\]\.fpm\.host and \.port/)
  t.equal(line.backend, 'fpm', 'the log fields name it too')
  t.equal(line.address, `tcp:127.0.0.1:${port}`)
})

t.test('a socket path that does not exist, in a directory that exists and one that does not', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-startup-')
  mkdirSync(join(dir, 'run'))
  const { warnings } = await readyWith(t, {
    '.php': [{ socket: join(dir, 'run', 'php-fpm.sock') }],
    '.php7': [{ socket: join(dir, 'gone', 'php-fpm.sock') }]
  })
  t.equal(warnings.length, 2, 'one warning per backend')
  t.match(warnings[0]?.msg, `backend '.php#0' (server['.php'][0]) at unix:${dir}/run/php-fpm.sock`)
  t.match(warnings[0]?.msg, `the socket ${dir}/run/php-fpm.sock does not exist (its directory ${dir}/run exists and holds no socket)`)
  t.match(warnings[0]?.msg, /set server\['\.php'\]\[0\]\.socket to the path it listens on/)
  t.match(warnings[1]?.msg, `(its directory ${dir}/gone does not exist either)`)
})

t.test('a socket file that nobody listens on, and a regular file given as socket', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-startup-')
  const file = join(dir, 'not-a-socket')
  writeFileSync(file, '')
  const { warnings } = await readyWith(t, { '.php': [{ socket: file }] })
  t.equal(warnings.length, 1)
  t.match(warnings[0]?.msg, `${file} is not a socket: set server['.php'][0].socket to the path the FastCGI server listens on`)
})

t.test('an HTTP server on the port does not speak FastCGI', async (t) => {
  const server = createServer((_req, res) => res.end('hello'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const { warnings } = await readyWith(t, { '.php': [{ host: '127.0.0.1', port }] })
  t.equal(warnings.length, 1)
  t.match(warnings[0]?.msg, `at tcp:127.0.0.1:${port}: an HTTP server answers there, not a FastCGI one (first bytes "HTTP/1.1 400`)
  t.match(warnings[0]?.msg, /or use @fastify\/http-proxy for an HTTP backend/)
})

t.test('two entries on one address: one warning naming both', async (t) => {
  const port = await freePort()
  const { warnings } = await readyWith(t, {
    '.php': { auth: { host: '127.0.0.1', port, mode: 'authorizer' } },
    '/app/': [{ host: '127.0.0.1', port, checkLocal: false }]
  })
  t.equal(warnings.length, 1)
  t.match(warnings[0]?.msg, `backend 'auth', '/app/#0' (server['.php'].auth, server['/app/'][0]) at tcp:127.0.0.1:${port}`)
})

t.test("startupCheck: 'off' asks nothing", async (t) => {
  const log = captureLog('warn')
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, startupCheck: 'off', server: { '.php': [{ host: '127.0.0.1', port: await freePort() }] } })
  await app.ready()
  t.same(log.lines.filter((l) => l.msg.startsWith('FastCGI start-up check: ')), [])
})
