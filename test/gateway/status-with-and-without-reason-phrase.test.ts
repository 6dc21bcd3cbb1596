// `Status: 404` and `Status: 404 Gone` both set the status; the reason phrase is optional.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('Status from php-cgi, with and without a reason phrase', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  for (const [status, code] of [['404', 404], ['404%20Gone%20Away', 404], ['418', 418], ['503%20Later', 503], ['200', 200]] as const) {
    const res = await app.inject({ url: `/status.php?status=${status}` })
    t.equal(res.statusCode, code, `Status: ${decodeURIComponent(status)}`)
    t.equal(res.body, 'status.php\n', 'with the script body')
  }
})

t.test('bare Status lines (LF only, no reason) from a raw backend', async (t) => {
  const backend = await startFaultServer(t, { ...faults.rawHeaders('Status: 451\nContent-Type: text/plain\n\n', 'unavailable\n') })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  const res = await app.inject({ url: '/app' })
  t.equal(res.statusCode, 451)
  t.equal(res.body, 'unavailable\n')
  t.equal(res.headers.status, undefined, 'Status itself is not passed on as a header')
})
