// Backend STDERR is logged as text, and scripts write what clients send into it
// (`error_log("login failed for $user")`). Terminal control sequences (ESC, a bare CR, BEL, C1
// controls) in it would rewrite what an operator sees when the log is read on a terminal
// (pino-pretty, tail, less -R): they are logged escaped (`\x1b`), never raw. Line breaks still
// separate the lines of one record, as PHP writes them.
import t from 'tap'
import path from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { StderrLog } from '../../plugin/fastify/stderr-log'
import { hasPhpCgi, startPhpCgi } from '../helpers/php'
import { captureLogs } from '../helpers/logs'

/** Any C0 control but LF and TAB, DEL, or a C1 control. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ // eslint-disable-line no-control-regex

t.test('a client\'s terminal escapes written to STDERR by a script are logged escaped', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: path.join(__dirname, 'php'), server: { '.php': { php: php.options } } })
  // clear the screen, retitle the terminal, return to the line start and overwrite it
  const user = encodeURIComponent('bob\u001b[2J\u001b]0;owned\u0007\rINFO all good\u009b')
  const res = await app.inject(`/error-log-from-client.php?user=${user}`)
  t.equal(res.statusCode, 200)
  const stderr = logs.lines.filter((l) => String(l.msg).startsWith('FastCGI-stderr'))
  t.equal(stderr.length, 1, 'one record')
  const msg = String(stderr[0]?.msg)
  t.notMatch(msg, RAW_CONTROL, 'no raw control character in the logged text')
  t.match(msg, 'login failed for bob\\x1b[2J\\x1b]0;owned\\x07\\x0dINFO all good\\x9b', 'each one shown escaped, the rest kept')
})

t.test('StderrLog: control characters escaped, tabs and line breaks kept', async (t) => {
  const records: string[] = []
  const log = new StderrLog({ warn: (_obj, msg) => { records.push(msg) } }, 'b')
  log.push(Buffer.from('a\tb\u0000c\u001b[0m\r\nsecond\u007f\r\n'))
  log.flush()
  t.same(records, ['FastCGI-stderr: a\tb\\x00c\\x1b[0m\nsecond\\x7f'])
})
