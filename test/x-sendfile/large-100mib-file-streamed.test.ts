// X-Sendfile of a 100 MiB file over a real socket: every byte arrives (size and md5), and the
// file is streamed, not buffered: the gateway's RSS grows by less than 64 MiB meanwhile.
import t from 'tap'
import { createHash } from 'node:crypto'
import { openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { readSlowly, requestStream } from '../helpers/http'
import { patternBytes, patternMd5 } from '../helpers/pattern'

const SIZE = 100 * 1024 * 1024
const BOUND = 64 * 1024 * 1024

t.setTimeout(180_000)

t.test('100 MiB through X-Sendfile: size, md5, bounded memory', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const file = join(dir, 'big.bin')
  const fd = openSync(file, 'w')
  for (let offset = 0; offset < SIZE; offset += 1024 * 1024) writeSync(fd, patternBytes(offset, 1024 * 1024))
  closeSync(fd)
  const expected = patternMd5(SIZE)

  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/sendfile/send.php?v=${encodeURIComponent(file)}`

  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss) }
  const sampler = setInterval(sample, 50)
  t.teardown(() => clearInterval(sampler))

  const hash = createHash('md5')
  const { req, res } = await requestStream(url)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], String(SIZE))
  const result = await readSlowly(req, res, { bytesPerStep: 1024 * 1024, pauseMs: 1, onChunk: (chunk) => hash.update(chunk), onStep: sample, timeoutMs: 150_000 })
  clearInterval(sampler)
  sample()
  t.ok(result.complete, `complete (error: ${result.error?.message ?? 'none'})`)
  t.equal(result.bytes, SIZE)
  t.equal(hash.digest('hex'), expected, 'md5 of what arrived is the file\'s')
  const growth = peak - baseline
  t.ok(growth < BOUND, `RSS growth ${(growth / 1048576).toFixed(1)} MiB stays under 64 MiB`)
})
