// X-Sendfile of something that is not a regular file (a FIFO, which would block the read, or a
// directory) is refused with 403 and a log line, whichever header names it.
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { captureLogs } from '../helpers/logs'

t.test('FIFOs and directories are refused with 403', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const sub = join(dir, 'sub')
  mkdirSync(sub)
  const php = await startPhpCgi(t)
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const cases: Array<[string, string]> = [
    ['X-Sendfile FIFO', `v=${encodeURIComponent(fifo)}`],
    ['X-Sendfile directory', `v=${encodeURIComponent(sub)}`],
    ['X-Sendfile FIFO with status 404', `status=404&v=${encodeURIComponent(fifo)}`],
    ['X-Sendfile2 FIFO', `h=X-Sendfile2&v=${encodeURIComponent(encodeURIComponent(fifo) + ' 0-10')}`],
    ['X-Sendfile2 directory', `h=X-Sendfile2&v=${encodeURIComponent(encodeURIComponent(sub) + ' 0-')}`]
  ]
  for (const [name, query] of cases) {
    const before = logs.lines.length
    const res = await app.inject({ url: `/sendfile/send.php?${query}` })
    t.equal(res.statusCode, 403, name)
    t.notMatch(res.body, /backend body/, `${name}: the backend's body does not go out`)
    t.ok(logs.lines.slice(before).some((line) => line.msg === 'X-Sendfile names something that is not a regular file; answering 403'), `${name}: logged`)
  }
})
