// Recipe "Go with net/http/fcgi" (docs/recipes.md), tested where a Go toolchain is installed.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { FIXTURES } from '../helpers/libfcgi'
import { findBinary } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

const go = findBinary('go')

t.test('a Go net/http/fcgi app spawned by the plugin', { skip: go === undefined && 'no Go toolchain (apt-get install golang-go)' }, async (t) => {
  const runDir = makeTempDir(t, 'ffcgi-recipe-')
  const binary = join(runDir, 'hello-fcgi')
  // go build -o hello-fcgi hello.go (standard library only; the build cache is shared between runs)
  execFileSync(go as string, ['build', '-o', binary, join(FIXTURES, 'go', 'hello.go')], {
    stdio: 'pipe',
    timeout: 300_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: runDir, GOCACHE: join(tmpdir(), 'ffcgi-go-build-cache'), GO111MODULE: 'off', GOFLAGS: '' }
  })
  // ---- the recipe's options (paths from this test) ----
  const options = {
    documentRoot: process.cwd(),
    server: {
      '/go/': {
        go: {
          binPath: binary,
          socket: join(runDir, 'go.sock'),
          maxProcs: 1,
          checkLocal: false
        }
      }
    }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)

  const res = await app.inject({ url: '/go/items/7?sort=asc' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain')
  t.match(res.body, 'hello from go\nmethod=GET\npath=/go/items/7\nquery=sort=asc\n')
})
