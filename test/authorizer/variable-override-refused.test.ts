// A Variable- header naming a variable the gateway sets itself (SCRIPT_FILENAME, DOCUMENT_ROOT,
// REMOTE_ADDR, CONTENT_LENGTH, HTTP_*) is refused and logged; the others are granted.
import t from 'tap'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('Variable-SCRIPT_FILENAME and friends cannot override the gateway', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'override.php') } })
  const php = await startPhpCgi(t)
  const lines: Array<{ msg?: string, variable?: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as { msg?: string, variable?: string })
      done()
    }
  })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': { gate: { ...gate.options, mode: 'authorizer' }, app: php.options } }
  })

  const res = await app.inject({ url: '/env.php', headers: { host: 'good.example' } })
  t.equal(res.statusCode, 200)
  const server = (JSON.parse(res.body) as { server: Record<string, string> }).server
  t.equal(server.SCRIPT_FILENAME, join(PHP_FIXTURES, 'env.php'))
  t.equal(server.DOCUMENT_ROOT, PHP_FIXTURES)
  t.equal(server.REMOTE_ADDR, '127.0.0.1')
  t.equal(server.HTTP_HOST, 'good.example')
  t.equal(server.CONTENT_LENGTH, '0')
  t.equal(server.REMOTE_USER, 'bob', 'a variable the gateway does not set is granted')

  const refused = lines.filter((l) => l.msg !== undefined && /refused/.test(l.msg)).map((l) => l.variable).sort()
  t.same(refused, ['CONTENT_LENGTH', 'DOCUMENT_ROOT', 'HTTP_HOST', 'REMOTE_ADDR', 'SCRIPT_FILENAME'], 'each refusal is logged by name')
  t.notOk(lines.some((l) => JSON.stringify(l).includes('/etc/passwd')), 'values are not logged')
})
