// `upgrade` (lighttpd 1.4.74's websocket tunnelling) is accepted, so that configurations from
// lighttpd load, but it is not implemented: set to true, register() says so in a warning.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { normalizeOptions } from '../../plugin/fastify/options'

t.test('upgrade: true is a warning naming the option; false or absent is silent', async (t) => {
  const warnings = normalizeOptions({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', upgrade: true }] } }).warnings
  t.equal(warnings.length, 1)
  t.match(warnings[0], /^server\['\.php'\]\[0\]\.upgrade has no effect: HTTP Upgrade \(websocket\) tunnelling through FastCGI is not supported/)
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock', upgrade: false }] } }).warnings, [])
  t.strictSame(normalizeOptions({ documentRoot: process.cwd(), server: { '.php': [{ socket: '/run/php.sock' }] } }).warnings, [])
})

t.test('the warning reaches the application log at register()', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ socket: '/nonexistent/app.sock', checkLocal: false, upgrade: true }] } })
  await app.ready()
  const warned = lines.map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.level === 40 && /upgrade has no effect/.test(l.msg))
  t.equal(warned.length, 1, 'one warning, at warn level')
})
