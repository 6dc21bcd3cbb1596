// The deprecated X-LIGHTTPD-send-file works like X-Sendfile (also with the deprecated
// allowXSendFile option); X-Sendfile wins when a backend sends both.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'

t.test('X-LIGHTTPD-send-file and precedence', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  writeFileSync(join(dir, 'legacy.txt'), 'legacy')
  writeFileSync(join(dir, 'modern.txt'), 'modern')
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const both = req.param('QUERY_STRING') === 'both'
      const head = `X-LIGHTTPD-send-file: ${dir}/legacy.txt\r\n${both ? `X-Sendfile: ${dir}/modern.txt\r\n` : ''}Content-Type: text/plain\r\n\r\n`
      await conn.respond(`${head}backend body`, req.requestId)
    }
  })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/dl': [{ ...backend.options, checkLocal: false, allowXSendFile: true }] } })

  const legacy = await app.inject({ url: '/dl' })
  t.equal(legacy.statusCode, 200)
  t.equal(legacy.body, 'legacy')
  t.notOk(legacy.headers['x-lighttpd-send-file'])

  const both = await app.inject({ url: '/dl?both' })
  t.equal(both.body, 'modern', 'X-Sendfile before X-LIGHTTPD-send-file')
})
