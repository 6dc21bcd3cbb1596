// Backends given as a list get names from their key and position (`.php#0`, `.php#1`), so log
// lines never say "backend":"" and stats() keys of two backends never collide; named backends
// keep their label.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { normalizeOptions } from '../../plugin/fastify/options'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { captureLogs } from '../helpers/logs'

t.test('names from the key and position; labels kept', async (t) => {
  const config = normalizeOptions({
    documentRoot: __dirname,
    server: {
      '.php': [{ socket: '/run/a.sock' }, { socket: '/run/b.sock' }],
      '/app/': { app: { socket: '/run/c.sock', checkLocal: false } }
    }
  })
  t.same(config.mappings.map((m) => m.hosts.map((h) => h.name)), [['.php#0', '.php#1'], ['app']])
})

t.test('two listed php-cgi backends: distinct names in backends(), stats() and the log', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const first = await startPhpCgi(t)
  const second = await startPhpCgi(t)
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, balance: 'round-robin', server: { '.php': [{ ...first.options, keepAlive: false }, { ...second.options, keepAlive: false }] } })
  await app.ready()
  t.same(app.fastcgi.backends().map((b) => b.name).sort(), ['.php#0', '.php#1'])
  const keys = Object.keys(app.fastcgi.stats())
  t.ok(keys.some((k) => k.startsWith('fastcgi.backend..php#0.')), 'stats of the first')
  t.ok(keys.some((k) => k.startsWith('fastcgi.backend..php#1.')), 'stats of the second')
  t.notOk(keys.some((k) => /^fastcgi\.backend\.\.\d/.test(k)), 'no key with an empty name')

  // round-robin: two requests reach both backends, each logging its stderr
  for (const marker of ['name-mark-1', 'name-mark-2']) {
    const res = await app.inject({ url: `/stderr.php?msg=${marker}` })
    t.equal(res.statusCode, 200)
  }
  const lines = logs.lines.filter((l) => /name-mark-/.test(String(l.msg)))
  t.equal(lines.length, 2, 'both stderr lines logged')
  t.ok(lines.every((l) => typeof l.backend === 'string' && /\.php#[01]/.test(l.backend)), 'each names its backend')
})
