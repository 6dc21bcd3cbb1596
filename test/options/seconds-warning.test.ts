// A duration of 1..99 ms where milliseconds are expected probably meant seconds (lighttpd's
// unit): it is a warning, and register() logs it.
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { normalizeOptions } from '../../plugin/fastify/options'
import { makeTempDir } from '../helpers/tmp'

const DURATIONS = ['disableTime', 'idleTimeout', 'connectTimeout', 'readTimeout', 'writeTimeout', 'sendTimeout', 'keepAliveTimeout', 'queueTimeout'] as const

for (const key of DURATIONS) {
  t.test(`${key}: 1 and 99 warn, 0 and 100 do not`, async (t) => {
    const warn = (value: number): readonly string[] =>
      normalizeOptions({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', binPath: '/usr/bin/php-cgi', [key]: value }] } }).warnings
    t.strictSame(warn(1), [`server['.php'][0].${key} is 1 ms; durations are in milliseconds (lighttpd's are seconds): did you mean 1000?`])
    t.equal(warn(99).length, 1)
    t.strictSame(warn(0), [])
    t.strictSame(warn(100), [])
  })
}

t.test('closeGrace warns too; fixRootScriptname where it does nothing warns', async (t) => {
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), closeGrace: 5, server: { '.php': [{ socket: '/run/php.sock' }] } }).warnings,
    ["closeGrace is 5 ms; durations are in milliseconds (lighttpd's are seconds): did you mean 5000?"])
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), clientBodyTimeout: 60, server: { '.php': [{ socket: '/run/php.sock' }] } }).warnings,
    ["clientBodyTimeout is 60 ms; durations are in milliseconds (lighttpd's are seconds): did you mean 60000?"])
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), server: { '/app/': [{ socket: '/run/php.sock', fixRootScriptname: true, checkLocal: false }] } }).warnings,
    ["server['/app/'][0].fixRootScriptname has no effect: it applies only to the '/' prefix with checkLocal: false"])
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), server: { '/': [{ socket: '/run/php.sock', fixRootScriptname: true, checkLocal: false }] } }).warnings, [])
})

t.test('register() logs the warning at level warn and still starts', async (t) => {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line))
      callback()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  const socket = `${makeTempDir(t)}/nothing.sock`
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '.php': [{ socket, disableTime: 5 }] } })
  await app.ready()
  const warning = lines.find((l) => l.msg.includes('disableTime is 5 ms'))
  t.ok(warning, 'the warning was logged')
  t.equal(warning?.level, 40, 'at level warn')
  t.equal(warning?.msg, "server['.php'][0].disableTime is 5 ms; durations are in milliseconds (lighttpd's are seconds): did you mean 5000?")
})

t.test('register() fails with the error for an invalid option', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(fastcgi, { documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', 'bin-path': '/usr/bin/php-cgi' }] } } as never)
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_FASTCGI_INVALID_OPTION',
    message: "Invalid fastify-fastcgi option: server['.php'][0]['bin-path'] is not a host option; did you mean binPath?"
  })
})
