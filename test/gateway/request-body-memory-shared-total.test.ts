// What buffered request bodies hold in memory together. Each is kept in memory up to
// spoolMemoryLimit; before spoolMemoryTotal, nothing bounded their sum, so N uploads that stop
// one byte short of their end held N x spoolMemoryLimit for as long as their clients kept the
// connection (Fastify has no requestTimeout by default). A body that would pass the total now
// goes to its temp file, and what a body held is given back with its reply.
import t from 'tap'
import fs from 'node:fs'
import { PassThrough } from 'node:stream'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { BodyMemory, prepareBody } from '../../plugin/fastify/request-body'
import type { BodyLimits, PreparedBody } from '../../plugin/fastify/request-body'
import { startFaultServer, faults } from '../helpers/fault-server'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'
import { rawConnect, sleep } from '../hardening/support'
import type { RawConnection } from '../hardening/support'

function limits (spoolDirectory: string, memory: BodyMemory): BodyLimits {
  return { bodyLimit: 64 * 1024, spoolMemoryLimit: 8192, spoolDirectory, requestBuffering: true, memory }
}

async function prepared (body: Buffer, dir: string, memory: BodyMemory): Promise<PreparedBody> {
  const raw = new PassThrough()
  const pending = prepareBody({ parsed: raw, raw, contentLength: undefined, transferEncoding: 'chunked', method: 'POST' }, limits(dir, memory))
  raw.end(body)
  return await pending
}

t.test('a body that would pass the shared total goes to a file; a disposed one gives its bytes back', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const memory = new BodyMemory(12000)
  const first = await prepared(Buffer.alloc(8000, 'a'), dir, memory)
  t.ok(Buffer.isBuffer(first.body), 'the first body is held in memory')
  t.equal(memory.used, 8000)
  const second = await prepared(Buffer.alloc(8000, 'b'), dir, memory)
  t.notOk(Buffer.isBuffer(second.body), 'the second would pass the total: it is in a file')
  t.equal(second.length, 8000)
  t.equal(memory.used, 8000, 'a spooled body holds none of the total')
  first.dispose()
  first.dispose()
  t.equal(memory.used, 0, 'the first body gave its bytes back (once)')
  const third = await prepared(Buffer.alloc(8000, 'c'), dir, memory)
  t.ok(Buffer.isBuffer(third.body), 'the next body fits again')
  third.dispose()
  second.dispose()
  t.equal(memory.used, 0)
})

t.test('a body that fails gives its bytes back', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-body-')
  const memory = new BodyMemory(10000)
  const raw = new PassThrough()
  const pending = Promise.resolve(prepareBody({ parsed: raw, raw, contentLength: undefined, transferEncoding: 'chunked', method: 'POST' }, limits(dir, memory)))
  raw.write(Buffer.alloc(5000))
  for (let i = 0; i < 100 && memory.used === 0; i++) await new Promise((resolve) => setImmediate(resolve))
  t.equal(memory.used, 5000, 'held while it is read')
  raw.destroy()
  await t.rejects(pending, { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.equal(memory.used, 0)
})

/** Uploads that send all but the last byte of `size`, then wait. */
async function stalledUploads (t: TeardownHost, port: number, count: number, size: number): Promise<RawConnection[]> {
  const conns: RawConnection[] = []
  for (let i = 0; i < count; i++) {
    const conn = await rawConnect(t, port)
    await conn.write(`POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n${'a'.repeat(size - 1)}`)
    conns.push(conn)
  }
  return conns
}

/** Polls (bounded) until the spool directory holds `n` files; returns how many it holds. */
async function spooledFiles (dir: string, n: number): Promise<number> {
  const deadline = Date.now() + 5000
  while (fs.readdirSync(dir).length < n && Date.now() < deadline) await sleep(20)
  return fs.readdirSync(dir).length
}

t.test('through the plugin: uploads held beyond spoolMemoryTotal wait in temp files, not in memory', async (t) => {
  const backend = await startFaultServer(t, { ...faults.echoStdin() })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const app = Fastify({ bodyLimit: 1024 * 1024 })
  t.teardown(() => app.close())
  // 4 bodies of 60 KiB fit in 256 KiB; the 6 others must not be held in memory
  await app.register(fastcgi, { documentRoot: process.cwd(), spoolMemoryLimit: 64 * 1024, spoolMemoryTotal: 256 * 1024, spoolDirectory, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  const conns = await stalledUploads(t, port, 10, 60 * 1024)
  t.equal(await spooledFiles(spoolDirectory, 6), 6, 'the 6 uploads beyond the total are in temp files')
  for (const conn of conns) conn.destroy()
  const deadline = Date.now() + 5000
  while (fs.readdirSync(spoolDirectory).length > 0 && Date.now() < deadline) await sleep(20)
  t.same(fs.readdirSync(spoolDirectory), [], 'their files are gone with them')

  const again = await stalledUploads(t, port, 4, 60 * 1024)
  await sleep(100)
  t.equal(fs.readdirSync(spoolDirectory).length, 0, 'the memory of the uploads that left was given back: 4 fit again')
  for (const conn of again) conn.destroy()
  const res = await request(`http://127.0.0.1:${port}/app`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'small' })
  t.equal(res.status, 200)
  t.equal(res.headers['x-stdin-length'], '5')
})

t.test('by default, the uploads of a registration hold at most 64 MiB in memory', async (t) => {
  const backend = await startFaultServer(t, { ...faults.echoStdin() })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const app = Fastify({ bodyLimit: 2 * 1024 * 1024 })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), spoolDirectory, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  // 70 bodies of 1 MiB (spoolMemoryLimit), each one byte short of its end
  const conns = await stalledUploads(t, port, 70, 1024 * 1024)
  t.ok(await spooledFiles(spoolDirectory, 6) >= 6, `at least 6 of 70 x 1 MiB are in temp files (${fs.readdirSync(spoolDirectory).length})`)
  for (const conn of conns) conn.destroy()
})
