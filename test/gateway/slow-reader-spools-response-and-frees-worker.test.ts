// A client that reads a large response slower than PHP writes it must not hold the PHP worker
// while it reads (lighttpd and nginx buffer such responses to temp files). Once the reader has
// been behind for a moment, the rest of the body goes to an unlinked 0600 temp file in
// spoolDirectory, the worker finishes and serves others, and the reader gets every byte, in
// order, from the file. The file's descriptor is closed when the body is done or the client
// goes; responseSpoolLimit 0 keeps the old behaviour (the worker waits for the reader).
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import fs from 'node:fs'
import path from 'node:path'
import type { IncomingMessage } from 'node:http'
import { listenGateway } from '../helpers/listen'
import { request, requestStream } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import { descriptorsInto, waitUntil } from '../helpers/descriptors'
import { PatternChecker } from '../helpers/pattern'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { loadsBackToZero, sleep } from '../hardening/support'
import type { FastcgiPluginOptions } from '../../plugin'
import type { TeardownHost } from '../helpers/tmp'

// far more than the loopback socket buffers between PHP, the gateway and the client can hold
const SIZE = 48 * 1024 * 1024
const skip = !hasPhpFpm() && 'php-fpm missing'



/** Reads the rest of a paused response, checking it against big.php's pattern. */
async function readAll (res: IncomingMessage): Promise<PatternChecker> {
  const checker = new PatternChecker()
  res.on('data', (chunk: Buffer) => checker.push(chunk))
  await new Promise<void>((resolve, reject) => {
    res.once('end', resolve)
    res.once('error', reject)
    res.resume()
  })
  return checker
}

async function gatewayOnOneWorker (t: TeardownHost, extra: Partial<FastcgiPluginOptions> = {}): Promise<{ base: string, spoolDirectory: string, app: Awaited<ReturnType<typeof listenGateway>>['app'] }> {
  const fpm = await startPhpFpm(t, { children: 1 })
  const spoolDirectory = makeTempDir(t, 'ffcgi-response-spool-')
  const { app, base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, spoolDirectory, server: { '.php': [{ ...fpm.options }] }, ...extra })
  return { app, base, spoolDirectory }
}

t.test('a slow reader does not hold the only PHP worker; it still gets every byte in order', { skip }, async (t) => {
  const { app, base, spoolDirectory } = await gatewayOnOneWorker(t)
  const { req, res } = await requestStream(`${base}/big.php?bytes=${SIZE}`)
  t.teardown(() => { req.destroy() })
  res.pause()
  t.equal(res.statusCode, 200)

  // the worker finished while the client has taken next to nothing
  t.same(await loadsBackToZero(app, 30000), [0], 'the backend is released while the client still reads')
  t.equal(descriptorsInto(spoolDirectory), 1, 'the rest waits in one temp file')
  t.same(fs.readdirSync(spoolDirectory), [], 'which has no name (unlinked at once)')
  const hello = await request(`${base}/hello.php`, { timeoutMs: 20000 })
  t.equal(hello.status, 200, 'the only worker serves the next client meanwhile')
  t.equal(hello.body.toString(), 'hello from php\n')

  const checker = await readAll(res)
  t.ok(checker.ok(SIZE), `the slow client got all ${SIZE} bytes in order (got ${checker.bytes}, first mismatch ${checker.firstMismatch})`)
  await waitUntil('temp file closed', () => descriptorsInto(spoolDirectory) === 0)
  t.equal(descriptorsInto(spoolDirectory), 0, 'the temp file is closed after the body')
  // the status report and /metrics count it (operators see the disk it took)
  const [backend] = app.fastcgi.status().mappings[0]?.backends ?? []
  t.equal(backend?.spooled, 1, 'one spooled response counted (the hello was not spooled)')
  t.ok((backend?.spooledBytes ?? 0) > 0 && (backend?.spooledBytes ?? SIZE) < SIZE, `with the bytes that waited in the file (${backend?.spooledBytes ?? 0} of ${SIZE})`)
  t.match(app.fastcgi.prometheus(), /^fastcgi_responses_spooled_total\{[^}]*\} 1$/m, 'fastcgi_responses_spooled_total')
})

t.test('a client that goes away while its response waits in the temp file leaves no descriptor', { skip }, async (t) => {
  const { app, base, spoolDirectory } = await gatewayOnOneWorker(t)
  const { req, res } = await requestStream(`${base}/big.php?bytes=${SIZE}`)
  res.pause()
  t.same(await loadsBackToZero(app, 30000), [0], 'the backend is released')
  await waitUntil('temp file open', () => descriptorsInto(spoolDirectory) === 1)
  req.destroy()
  await waitUntil('temp file closed', () => descriptorsInto(spoolDirectory) === 0)
  t.equal(descriptorsInto(spoolDirectory), 0, 'closed once the client is gone')
  const hello = await request(`${base}/hello.php`, { timeoutMs: 20000 })
  t.equal(hello.status, 200, 'and the gateway keeps serving')
})

t.test('responseSpoolLimit 0: the worker waits for the reader (no temp file)', { skip }, async (t) => {
  const { app, base, spoolDirectory } = await gatewayOnOneWorker(t, { responseSpoolLimit: 0 })
  const { req, res } = await requestStream(`${base}/big.php?bytes=${SIZE}`)
  t.teardown(() => { req.destroy() })
  res.pause()
  await waitUntil('load 1', () => app.fastcgi.backends().some((b) => b.load === 1))
  await sleep(1000)
  t.same(app.fastcgi.backends().map((b) => b.load), [1], 'the backend is still held a second later')
  t.equal(descriptorsInto(spoolDirectory), 0, 'no temp file')
  const checker = await readAll(res)
  t.ok(checker.ok(SIZE), 'the body is whole once the client reads')
  t.same(await loadsBackToZero(app, 30000), [0], 'and the backend released')
  t.equal(app.fastcgi.status().mappings[0]?.backends[0]?.spooled, 0, 'nothing counted as spooled')
})

t.test('a response larger than responseSpoolLimit: the file stops there and the rest waits for the reader', { skip }, async (t) => {
  const limit = 4 * 1024 * 1024
  const { app, base, spoolDirectory } = await gatewayOnOneWorker(t, { responseSpoolLimit: limit })
  const { req, res } = await requestStream(`${base}/big.php?bytes=${SIZE}`)
  t.teardown(() => { req.destroy() })
  res.pause()
  await waitUntil('temp file open', () => descriptorsInto(spoolDirectory) === 1)
  await sleep(1000)
  t.same(app.fastcgi.backends().map((b) => b.load), [1], 'the backend waits once the file is full')
  let fileSize = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(path.join('/proc/self/fd', fd)).startsWith(spoolDirectory + path.sep)) fileSize = fs.fstatSync(Number(fd)).size
    } catch {}
  }
  t.ok(fileSize >= limit && fileSize < limit + 1024 * 1024, `the file holds about the limit (${fileSize} bytes)`)
  const checker = await readAll(res)
  t.ok(checker.ok(SIZE), `the body is whole and in order (got ${checker.bytes}, first mismatch ${checker.firstMismatch})`)
  t.same(await loadsBackToZero(app, 30000), [0], 'the backend is released at the end')
  await waitUntil('temp file closed', () => descriptorsInto(spoolDirectory) === 0)
})

t.test('a spoolDirectory that cannot take the file: a warning, and the worker waits for the reader', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const missing = path.join(makeTempDir(t, 'ffcgi-response-spool-'), 'missing')
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, spoolDirectory: missing, server: { '.php': [{ ...fpm.options }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const { req, res } = await requestStream(`${base}/big.php?bytes=${SIZE}`)
  t.teardown(() => { req.destroy() })
  res.pause()
  await waitUntil('a warning', () => lines.some((l) => l.includes('cannot spool a response')))
  const warning = JSON.parse(lines.find((l) => l.includes('cannot spool a response')) ?? '{}') as { spoolDirectory?: string, err?: { code?: string } }
  t.equal(warning.spoolDirectory, missing, 'the warning names the directory')
  t.equal(warning.err?.code, 'ENOENT', 'and why')
  t.same(app.fastcgi.backends().map((b) => b.load), [1], 'the backend waits for the reader')
  const checker = await readAll(res)
  t.ok(checker.ok(SIZE), 'the body is whole once the client reads')
})
