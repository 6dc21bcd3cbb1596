// A binPath that never answers FastCGI fails register() within connectTimeout, with an error
// that names the option and what happened, instead of a 504 on the first request a minute later.
import t from 'tap'
import type { Test } from 'tap'
import { join } from 'node:path'
import { chmodSync, writeFileSync } from 'node:fs'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { makeTempDir } from '../helpers/tmp'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { buildCApp, hasLibfcgi } from '../helpers/libfcgi'

async function registerError (t: Test, host: Record<string, unknown>): Promise<Error & { code?: string }> {
  const dir = makeTempDir(t, 'ffcgi-spawn-')
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ socket: join(dir, 'app.sock'), maxProcs: 1, connectTimeout: 1000, ...host }] }
  }).ready().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof Error, 'register() fails')
  return err as Error & { code?: string }
}

t.test('a program that ignores fd 0 (sleep) fails register() naming binPath and connectTimeout', async (t) => {
  const err = await registerError(t, { binPath: '/bin/sleep 1000' })
  t.equal(err.code, 'FST_FASTCGI_BACKEND_START')
  t.match(err.message, "server['.php'][0] (backend '.php#0' at unix:")
  t.match(err.message, /\/bin\/sleep 1000 is running but did not answer a FastCGI connection on unix:\S+app\.sock-0 within connectTimeout \(1000 ms\)/)
  t.match(err.message, /binPath must be a FastCGI program that accepts connections on the listening socket it is given as fd 0/)
})

t.test('a program that exits at once (false) names its exit code', async (t) => {
  const err = await registerError(t, { binPath: '/bin/false' })
  t.equal(err.code, 'FST_FASTCGI_BACKEND_START')
  t.match(err.message, /exited right after it was started \(exit code 1\)/)
})

t.test('a program that closes the listening socket it was given (fd 0) and keeps running', async (t) => {
  const err = await registerError(t, { binPath: ['/bin/sh', '-c', 'exec sleep 1000 0<&-'] })
  t.equal(err.code, 'FST_FASTCGI_BACKEND_START')
  t.match(err.message, /is running but (its socket \S+ refuses connections|reset the connection on \S+ without a FastCGI answer)/)
  t.match(err.message, /a server that opens its own socket \(php-fpm, php-cgi -b\) is started on its own/)
})

t.test('binPath not executable, and a bare command name that PATH would find', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spawn-')
  const script = join(dir, 'app.fcgi')
  writeFileSync(script, '#!/bin/sh\nexit 0\n')
  chmodSync(script, 0o644)
  const notExecutable = await registerError(t, { binPath: script })
  t.match(notExecutable.message, `${script} is not executable: make it executable (chmod +x ${script}) or put its interpreter first`)
  const bare = await registerError(t, { binPath: 'sh' })
  t.match(bare.message, /does not exist: binPath is not looked up in PATH; write binPath: '\/\S*sh'/)
})

t.test('real FastCGI programs still start: php-cgi and a libfcgi app', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spawn-')
  const server: Record<string, unknown> = {}
  if (hasPhpCgi()) server['.php'] = [{ socket: join(dir, 'php.sock'), binPath: findBinary('php-cgi'), maxProcs: 2 }]
  if (hasLibfcgi()) server['/c/'] = { hello: { socket: join(dir, 'c.sock'), binPath: buildCApp('hello'), maxProcs: 1, checkLocal: false } }
  if (Object.keys(server).length === 0) {
    t.pass('neither php-cgi nor libfcgi here')
    return
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: server as never })
  await app.ready()
  if (hasPhpCgi()) t.equal((await app.inject('/hello.php')).statusCode, 200)
  if (hasLibfcgi()) t.equal((await app.inject('/c/x')).statusCode, 200)
})
