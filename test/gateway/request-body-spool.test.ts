// prepareBody on its own: what a buffered request body becomes (memory, temp file, an error),
// with the upload played by a PassThrough so that each edge can be reached exactly.
import t from 'tap'
import fs from 'node:fs'
import { PassThrough, Readable } from 'node:stream'
import { prepareBody } from '../../plugin/fastify/request-body'
import type { BodyLimits, PreparedBody } from '../../plugin/fastify/request-body'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

function limits (spoolDirectory: string, overrides: Partial<BodyLimits> = {}): BodyLimits {
  return { bodyLimit: 1024, spoolMemoryLimit: 100, spoolDirectory, requestBuffering: true, ...overrides }
}

function upload (raw: Readable, contentLength?: number): Parameters<typeof prepareBody>[0] {
  return { parsed: raw, raw, contentLength: contentLength === undefined ? undefined : String(contentLength), transferEncoding: contentLength === undefined ? 'chunked' : undefined, method: 'POST' }
}

async function settle (prepared: PreparedBody | Promise<PreparedBody>): Promise<PreparedBody> {
  return await prepared
}

function readAll (body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    body.on('data', (chunk: Buffer) => chunks.push(chunk))
    body.on('end', () => resolve(Buffer.concat(chunks)))
    body.on('error', reject)
  })
}

t.test('a body under spoolMemoryLimit is one Buffer, in the order its chunks came', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const raw = new PassThrough()
  const pending = settle(prepareBody(upload(raw), limits(dir)))
  raw.write('abc')
  raw.write('def')
  raw.end('g')
  const prepared = await pending
  t.ok(Buffer.isBuffer(prepared.body))
  t.equal(String(prepared.body), 'abcdefg')
  t.equal(prepared.length, 7)
  t.same(fs.readdirSync(dir), [], 'no temp file for a body held in memory')
})

t.test('a body that passes spoolMemoryLimit goes whole to a 0600 temp file, removed by dispose()', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const raw = new PassThrough()
  const pending = settle(prepareBody(upload(raw), limits(dir)))
  const first = Buffer.alloc(60, 'a')
  const second = Buffer.alloc(60, 'b')
  const third = Buffer.alloc(60, 'c')
  raw.write(first)
  raw.write(second) // 120 > 100: from here on the body is in a file, the first chunk included
  raw.end(third)
  const prepared = await pending
  t.notOk(Buffer.isBuffer(prepared.body))
  t.equal(prepared.length, 180)
  const files = fs.readdirSync(dir)
  t.equal(files.length, 1)
  t.equal(fs.statSync(`${dir}/${files[0]}`).mode & 0o777, 0o600)
  const body = prepared.body as { open (): Readable }
  t.same(await readAll(body.open()), Buffer.concat([first, second, third]))
  t.same(await readAll(body.open()), Buffer.concat([first, second, third]), 'the file can be read again (a retry)')
  prepared.dispose()
  await t.resolveMatch(waitGone(dir), true)
})

t.test('a body whose last chunk passes spoolMemoryLimit is in the file too', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const raw = new PassThrough()
  const pending = settle(prepareBody(upload(raw), limits(dir)))
  raw.end(Buffer.alloc(101, 'x'))
  const prepared = await pending
  t.notOk(Buffer.isBuffer(prepared.body))
  t.equal((await readAll((prepared.body as { open (): Readable }).open())).length, 101)
  prepared.dispose()
})

t.test('a body over bodyLimit fails with 413, in memory or spooled, and leaves no temp file', async (t) => {
  for (const spoolMemoryLimit of [4096, 100]) {
    const dir = makeTempDir(t, 'ffcgi-body-')
    const raw = new PassThrough()
    const pending = settle(prepareBody(upload(raw), limits(dir, { bodyLimit: 200, spoolMemoryLimit })))
    raw.write(Buffer.alloc(150))
    raw.write(Buffer.alloc(150))
    await t.rejects(pending, { code: 'FST_FASTCGI_BODY_TOO_LARGE', statusCode: 413 }, `spoolMemoryLimit ${spoolMemoryLimit}`)
    await t.resolveMatch(waitGone(dir), true, 'no temp file left')
  }
})

t.test('an upload closed before its end is an aborted request, not a body', async (t) => {
  for (const spoolMemoryLimit of [4096, 100]) {
    const dir = makeTempDir(t, 'ffcgi-body-')
    const raw = new PassThrough()
    const pending = settle(prepareBody(upload(raw), limits(dir, { spoolMemoryLimit })))
    raw.write(Buffer.alloc(150))
    await new Promise((resolve) => setImmediate(resolve))
    raw.destroy()
    await t.rejects(pending, { code: 'FST_FASTCGI_CLIENT_ABORTED' }, `spoolMemoryLimit ${spoolMemoryLimit}`)
    await t.resolveMatch(waitGone(dir), true, 'no temp file left')
  }
})

/** The error prepareBody gives when the upload fails with `err` after 3 bytes. */
async function failedUpload (t: TeardownHost, err: Error): Promise<unknown> {
  const raw = new PassThrough()
  const pending = settle(prepareBody(upload(raw), limits(makeTempDir(t, 'ffcgi-body-'))))
  raw.write('abc')
  raw.destroy(err)
  return await pending.then(() => undefined, (rejected: unknown) => rejected)
}

t.test('an upload reset by its client is an aborted request; another failure passes its error on', async (t) => {
  t.match(await failedUpload(t, Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), { code: 'FST_FASTCGI_CLIENT_ABORTED', statusCode: 499 })
  t.match(await failedUpload(t, Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })), { code: 'ENOSPC' }, 'not taken for the client going away')
})

t.test('a body already read by the application is no body; a destroyed one is an abort', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const read = new PassThrough()
  read.end('taken')
  await readAll(read)
  const prepared = await settle(prepareBody(upload(read, 5), limits(dir)))
  t.equal(prepared.body, undefined)
  t.equal(prepared.length, 0)
  const gone = new PassThrough()
  gone.destroy()
  await t.rejects(settle(prepareBody(upload(gone, 5), limits(dir))), { code: 'FST_FASTCGI_CLIENT_ABORTED' })
})

/** True once `dir` is empty (a removal runs in the background); false after 5 s. */
async function waitGone (dir: string): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (fs.readdirSync(dir).length === 0) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}
