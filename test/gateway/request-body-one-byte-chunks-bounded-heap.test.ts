// A client that sends its body one byte per TCP segment makes each byte a chunk of its own
// (Node reads each segment on its own), and a chunk held as it came is a Buffer object of about
// 270 bytes of heap: a body of spoolMemoryLimit (1 MiB) held that way took about 280 MiB, so a
// few such uploads could exhaust the heap while counting as 1 MiB each. Small chunks are now
// copied together into blocks, so what a body holds is about its size.
import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { PassThrough } from 'node:stream'
import { prepareBody } from '../../plugin/fastify/request-body'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Sends `chunks` one-byte chunks (the last one ends the body), each taken before the next is written, as separate socket reads come; `measure` runs before the last. */
async function upload (t: TeardownHost, chunks: number, measure: () => void = () => {}): Promise<Buffer> {
  const raw = new PassThrough()
  const pending = prepareBody({ parsed: raw, raw, contentLength: String(chunks), transferEncoding: undefined, method: 'POST' }, {
    bodyLimit: 1024 * 1024, spoolMemoryLimit: 1024 * 1024, spoolDirectory: makeTempDir(t, 'ffcgi-body-'), requestBuffering: true
  })
  for (let i = 0; i < chunks - 1; i++) {
    raw.write(Buffer.from([0x61 + (i % 26)]))
    for (let spins = 0; spins < 100 && raw.readableLength > 0; spins++) await new Promise((resolve) => setImmediate(resolve))
  }
  measure()
  raw.end(Buffer.from([0x7a]))
  const prepared = await pending
  prepared.dispose()
  return prepared.body as Buffer
}

t.test('100,000 one-byte chunks held in memory take about their size, not an object each', async (t) => {
  const CHUNKS = 100_000
  // the same path once before measuring: its compiled code is not what a body holds
  await upload(t, 5000)
  const before = heapAfterGc()
  let held = 0
  const body = await upload(t, CHUNKS, () => { held = heapAfterGc() - before })
  t.ok(held < 4 * 1024 * 1024, `the body held ${(held / 1024).toFixed(0)} KiB of heap for ${(CHUNKS / 1024).toFixed(0)} KiB of bytes (an object per chunk would be over ${(CHUNKS * 100 / 1024).toFixed(0)} KiB)`)
  t.equal(body.length, CHUNKS)
  t.equal(body[0], 0x61)
  t.equal(body[25], 0x61 + 25)
  t.equal(body[CHUNKS - 2], 0x61 + ((CHUNKS - 2) % 26))
  t.equal(body[CHUNKS - 1], 0x7a, 'every byte in its place')
})
