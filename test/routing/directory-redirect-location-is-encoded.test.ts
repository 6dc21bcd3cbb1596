// The directory redirect (`/dir` -> `/dir/`) names the directory as a URL path, each segment
// percent-encoded: a directory whose name holds a space, a backslash or characters beyond
// Latin-1 is redirected to itself. Before, the decoded name went into Location as it was: a
// name beyond Latin-1 was a 500 (node:http refuses the header), a space made an invalid URI,
// and a directory called `\evil.example` sent browsers to evil.example (they read `/\` as `//`).
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'

t.test('directory names that need encoding', async (t) => {
  const docroot = makeTempDir(t, 'ffcgi-dirs-')
  const names = ['日本 x', '\\evil.example', 'a%b', 'plain']
  for (const name of names) {
    mkdirSync(join(docroot, name))
    writeFileSync(join(docroot, name, 'index.php'), '')
  }
  const backend = await startFaultServer(t, faults.ok())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: docroot, indexFiles: ['index.php'], server: { '.php': [backend.options] } })

  for (const name of names) {
    const encoded = encodeURIComponent(name)
    const res = await app.inject({ url: `/${encoded}?q=1` })
    t.equal(res.statusCode, 301, `${name}: redirected`)
    t.equal(res.headers.location, `/${encoded}/?q=1`, `${name}: to itself, encoded`)
    const followed = await app.inject({ url: String(res.headers.location) })
    t.equal(followed.statusCode, 200, `${name}: the Location serves the directory's index`)
  }
})
