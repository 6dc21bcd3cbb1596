// A client that goes away mid-response frees the backend at once: the backend request is
// aborted, the pool's load for it drops back to 0, and the backend's next request (one
// worker only, so it must have been let go) succeeds.
import t from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { abortMidResponse, request } from '../helpers/http'
import { patternMd5 } from '../helpers/pattern'
import { createHash } from 'node:crypto'

const md5 = (buf: Buffer): string => createHash('md5').update(buf).digest('hex')

async function loadReturnsToZero (app: FastifyInstance): Promise<number[]> {
  let loads = app.fastcgi.backends().map((b) => b.load)
  for (let i = 0; i < 250 && loads.some((l) => l !== 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    loads = app.fastcgi.backends().map((b) => b.load)
  }
  return loads
}

t.test('php-cgi with one worker: abort mid-response, then the next request succeeds', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  for (let round = 0; round < 3; round++) {
    const aborted = await abortMidResponse(`${base}/big.php?bytes=${512 * 1024 * 1024}`, 1024 * 1024)
    t.equal(aborted.status, 200, `round ${round}: the response had started`)
    t.ok(aborted.received >= 1024 * 1024 && aborted.received < 512 * 1024 * 1024, `round ${round}: stopped mid-body`)
    t.same(await loadReturnsToZero(app), [0], `round ${round}: the pool load returns to 0`)
    const next = await request(`${base}/big.php?bytes=100000`, { timeoutMs: 30_000 })
    t.equal(next.status, 200, `round ${round}: the next request succeeds`)
    t.equal(md5(next.body), patternMd5(100000), `round ${round}: with the right body`)
  }
})

t.test('C libfcgi app (serial): abort mid-response, then the next request succeeds', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const hello = await startCApp(t, buildCApp('hello'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/hello': [{ ...hello.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const aborted = await abortMidResponse(`${base}/hello?bytes=${1024 * 1024 * 1024}`, 2 * 1024 * 1024)
  t.equal(aborted.status, 200)
  t.ok(aborted.received < 1024 * 1024 * 1024, 'stopped mid-body')
  t.same(await loadReturnsToZero(app), [0], 'the pool load returns to 0')
  const next = await request(`${base}/hello`, { timeoutMs: 30_000 })
  t.equal(next.status, 200, 'the single-threaded app serves the next request')
  t.equal(next.body.toString(), 'hello\n')
})
