// Recipe "Python WSGI with flup" (docs/recipes.md), tested where python3 has flup installed
// (pip install flup; Debian 12 does not package it).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { FIXTURES } from '../helpers/libfcgi'
import { findBinary } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

function pythonWithFlup (): string | undefined {
  for (const candidate of [findBinary('python3'), '/usr/bin/python3']) {
    if (candidate === undefined) continue
    try {
      execFileSync(candidate, ['-c', 'import flup.server.fcgi'], { stdio: 'ignore', timeout: 30_000 })
      return candidate
    } catch {}
  }
  return undefined
}

const python = pythonWithFlup()

t.test('a flup WSGI app spawned by the plugin', { skip: python === undefined && 'python3 with flup not installed' }, async (t) => {
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: process.cwd(),
    server: {
      '.py': {
        'python-fcgi': {
          binPath: [python as string, join(FIXTURES, 'python', 'flup_hello.py')],
          socket: join(runDir, 'fastcgi.python.socket'),
          checkLocal: false,
          maxProcs: 1
        }
      }
    }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  const res = await app.inject({ url: '/test.py/more' })
  t.equal(res.statusCode, 200)
  t.match(res.body, 'Hello World!\n')
})
