// A 1 GiB response read by a slow client: the body streams with backpressure, so the
// gateway's memory stays bounded whatever the response size. The gateway runs in this
// process; its RSS growth over the baseline must stay under 64 MiB. The backend is the
// C libfcgi hello app (?bytes=N sends N bytes of the i % 251 pattern), checked byte by byte.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { readSlowly, requestStream } from '../helpers/http'
import { PatternChecker } from '../helpers/pattern'

const GIB = 1024 * 1024 * 1024
const BOUND = 64 * 1024 * 1024

t.setTimeout(240_000)

t.test('1 GiB through a slow client keeps RSS growth under 64 MiB', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const hello = await startCApp(t, buildCApp('hello'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/big': [{ ...hello.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  // warm up the code paths and buffers, then take the baseline
  for (let i = 0; i < 3; i++) {
    const { req, res } = await requestStream(`${base}/big?bytes=${8 * 1024 * 1024}`)
    const r = await readSlowly(req, res, { pauseMs: 0, bytesPerStep: Number.MAX_SAFE_INTEGER, timeoutMs: 60_000 })
    t.ok(r.complete, 'warm-up response complete')
  }
  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss) }
  const sampler = setInterval(sample, 50)
  t.teardown(() => clearInterval(sampler))

  const checker = new PatternChecker()
  const { req, res } = await requestStream(`${base}/big?bytes=${GIB}`)
  t.equal(res.statusCode, 200)
  // slow: 256 KiB, then a pause (at most ~50 MB/s), so the backend is always ahead and the gateway must stop reading it
  const result = await readSlowly(req, res, {
    bytesPerStep: 256 * 1024,
    pauseMs: 5,
    onChunk: (chunk) => { checker.push(chunk) },
    onStep: () => { sample() },
    timeoutMs: 180_000
  })
  clearInterval(sampler)
  sample()

  t.ok(result.complete, `the whole body arrived (error: ${result.error?.message ?? 'none'})`)
  t.equal(checker.firstMismatch, -1, 'every byte is the pattern byte')
  t.ok(checker.ok(GIB), `exactly 1 GiB (${checker.bytes} bytes)`)
  const growth = peak - baseline
  t.ok(growth < BOUND, `RSS growth ${(growth / 1048576).toFixed(1)} MiB stays under 64 MiB`)
  t.same(app.fastcgi.backends().map((b) => b.load), [0], 'the backend is free afterwards')
})
