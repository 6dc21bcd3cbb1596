// The troubleshooting section of docs/recipes.md quotes these log lines: each case of the
// seed's troubleshooting list is run for real and the plugin's messages are checked.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { captureLog } from '../helpers/log-capture'
import type { LogLine } from '../helpers/log-capture'
import { PHP_FIXTURES, hasPhpCgi, hasPhpFpm, startPhpCgi, startPhpFpm } from '../helpers/php'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { buildPackage } from '../helpers/package-build'

const errMessage = (line: LogLine | undefined): string => (line?.err as { message?: string } | undefined)?.message ?? ''

t.test('a backend that closes the connection at once (FCGI_WEB_SERVER_ADDRS without our address)', { skip: !hasPhpCgi() && 'php-cgi not installed' }, async (t) => {
  // php-cgi accepts, sees a peer that is not in FCGI_WEB_SERVER_ADDRS and closes
  const php = await startPhpCgi(t, { port: 0, env: { FCGI_WEB_SERVER_ADDRS: '192.0.2.1' } })
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await app.inject({ url: '/hello.php' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_FASTCGI_PREMATURE_CLOSE')
  const line = log.lines.find((l) => l.level === 50)
  // a reset or an orderly close, depending on how far the request got when php-cgi hung up
  t.match(line?.msg, /^FastCGI backend closed the connection early: tcp:127\.0\.0\.1:\d+(: ECONNRESET| closed the connection|: EPIPE)$/)
})

t.test('nothing listening on host/port', async (t) => {
  const port = await freePort()
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ host: '127.0.0.1', port }] } })
  const res = await app.inject({ url: '/hello.php' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_FASTCGI_CONNECT')
  const disabled = log.find('FastCGI backend connect failed; disabled for disableTime, requests go to other backends')
  t.ok(disabled, 'the pool says it disabled the backend')
  t.equal(disabled?.level, 40)
  t.equal(disabled?.address, `tcp:127.0.0.1:${port}`)
  t.equal(disabled?.outcome, 'refused')
  const unreachable = log.find('FastCGI backend unreachable; trying another one')
  t.equal(errMessage(unreachable), `Cannot connect to FastCGI backend tcp:127.0.0.1:${port}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`)
  const failed = log.lines.find((l) => l.level === 50)
  t.equal(failed?.msg, `Cannot connect to FastCGI backend tcp:127.0.0.1:${port}: ECONNREFUSED`)
  t.equal(errMessage(failed), `Cannot connect to FastCGI backend tcp:127.0.0.1:${port}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`)
  // while disabled (disableTime) the next request does not even try
  const again = await app.inject({ url: '/hello.php' })
  t.equal(again.statusCode, 503)
  t.equal(again.json().code, 'FST_FASTCGI_NO_BACKEND')
})

t.test("'Primary script unknown': php-fpm asked for a SCRIPT_FILENAME that does not exist", { skip: !hasPhpFpm() && 'php-fpm not installed' }, async (t) => {
  const fpm = await startPhpFpm(t)
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  t.teardown(() => app.close())
  // checkLocal: false sends every *.php to php-fpm, existing or not (as a remote docroot would)
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...fpm.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/missing.php' })
  t.equal(res.statusCode, 404)
  t.equal(res.body, 'File not found.\n')
  const stderr = log.find('FastCGI-stderr:')
  t.equal(stderr?.msg, 'FastCGI-stderr: Primary script unknown')
  t.equal(stderr?.level, 40)
  t.match(stderr?.backend, /^\.php#0 unix:.*fpm\.sock$/)
})

t.test('a unix socket the gateway may not connect to (wrong permissions)', { skip: !hasPhpCgi() && 'php-cgi not installed' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-perm-')
  chmodSync(dir, 0o755)
  const socket = join(dir, 'php.sock')
  await startPhpCgi(t, { socket })
  const isRoot = process.getuid?.() === 0
  let lines: LogLine[]
  let status: number
  if (!isRoot) {
    chmodSync(socket, 0o000)
    const log = captureLog()
    const app = Fastify({ logger: log.logger })
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ socket }] } })
    status = (await app.inject({ url: '/hello.php' })).statusCode
    lines = log.lines
  } else {
    // root may connect to any socket: run the gateway as nobody against a root-only socket
    chmodSync(socket, 0o600)
    const build = buildPackage(t)
    chmodSync(build.root, 0o755)
    const script = join(build.root, 'perm-check.js')
    writeFileSync(script, [
      "const Fastify = require('fastify')",
      "const fastcgi = require('fastify-fastcgi')",
      'async function main () {',
      "  const app = Fastify({ logger: { level: 'info' } })",
      "  await app.register(fastcgi, { documentRoot: process.argv[3], server: { '.php': [{ socket: process.argv[2] }] } })",
      "  const res = await app.inject({ url: '/hello.php' })",
      '  console.log(JSON.stringify({ level: 0, msg: \'status\', status: res.statusCode }))',
      '  await app.close()',
      '}',
      'main()'
    ].join('\n'))
    chmodSync(script, 0o644)
    const child = spawnSync(process.execPath, [script, socket, PHP_FIXTURES], { cwd: build.root, env: build.env, uid: 65534, gid: 65534, encoding: 'utf8', timeout: 60_000 })
    lines = child.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine)
    status = Number(lines.find((l) => l.msg === 'status')?.status)
    t.equal(child.status, 0, child.stderr)
  }
  t.equal(status, 503)
  const disabled = lines.find((l) => l.msg === 'FastCGI backend connect failed; disabled for disableTime, requests go to other backends')
  t.equal(disabled?.address, `unix:${socket}`)
  const failed = lines.find((l) => l.level === 50)
  t.equal(failed?.msg, `Cannot connect to FastCGI backend unix:${socket}: EACCES`)
  t.equal(errMessage(failed), `Cannot connect to FastCGI backend unix:${socket}: EACCES: connect EACCES ${socket}`)
  // the start-up check at ready said so first, naming the user and the socket's owner and mode
  const startup = lines.filter((l) => l.level === 40 && l.msg.startsWith('FastCGI start-up check: '))
  t.equal(startup.length, 1, 'one start-up warning')
  t.match(startup[0]?.msg, `backend '.php#0' (server['.php'][0]) at unix:${socket}: permission denied on ${socket}: this server runs as user '`)
  t.match(startup[0]?.msg, new RegExp(`\\(uid ${isRoot ? 65534 : String(process.getuid?.())}, gid \\d+\\), and the socket belongs to uid \\d+, gid \\d+ with mode 0${isRoot ? '600' : '000'}; give that user access to the socket \\(php-fpm: listen\\.owner, listen\\.group, listen\\.mode\\)`))
})
