// ResponseSpill: a response's overflow in an unlinked temp file, appended as the backend sends
// and read from the front as the client asks. What comes out is what went in, in order, also
// when reads ask for bytes whose writes are still under way; the file has no name from the
// start, and its descriptor is closed by close(), also with a write or read in flight.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { ResponseSpill } from '../../plugin/client/response-spill'
import type { SpillListener } from '../../plugin/client/response-spill'
import { makeTempDir } from '../helpers/tmp'
import { descriptorsInto } from '../helpers/descriptors'
import { patternBytes } from '../helpers/pattern'

class Collector implements SpillListener {
  readonly pieces: Buffer[] = []
  readonly errors: Error[] = []
  writable = 0
  private waiter: (() => void) | undefined

  onWritable (): void { this.writable++ }
  onPiece (piece: Buffer): void {
    this.pieces.push(piece)
    this.waiter?.()
  }

  onSpillError (err: Error): void {
    this.errors.push(err)
    this.waiter?.()
  }

  async next (): Promise<void> {
    await new Promise<void>((resolve) => { this.waiter = resolve })
    this.waiter = undefined
  }
}


async function readAll (spill: ResponseSpill, collector: Collector): Promise<Buffer> {
  // bounded: each round takes at least one byte
  for (let i = 0; i < 10_000 && !spill.drained; i++) {
    const done = collector.next()
    spill.read()
    await done
    if (collector.errors.length > 0) break
  }
  return Buffer.concat(collector.pieces)
}

t.test('bytes come back in order, in pieces of at most 64 KiB, from a file without a name', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spill-')
  const collector = new Collector()
  const spill = ResponseSpill.open(dir, collector)
  t.same(fs.readdirSync(dir), [], 'unlinked at once')
  t.equal(descriptorsInto(dir), 1, 'one descriptor')
  let offset = 0
  // odd sizes, so that pieces never line up with writes
  for (const size of [1, 70_000, 3, 65_536, 200_001, 17]) {
    spill.write(patternBytes(offset, size))
    offset += size
  }
  t.equal(spill.written, offset)
  t.notOk(spill.drained, 'not drained while bytes are unread')
  const back = await readAll(spill, collector)
  t.same(collector.errors, [])
  t.ok(back.equals(patternBytes(0, offset)), `the ${offset} bytes, in order`)
  t.ok(collector.pieces.every((p) => p.length <= 65536), 'no piece over 64 KiB')
  t.ok(spill.drained, 'drained')
  spill.close()
  for (let i = 0; i < 100 && descriptorsInto(dir) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(descriptorsInto(dir), 0, 'closed')
})

t.test('a read asked for before its bytes reach the disk is answered once they do', async (t) => {
  const collector = new Collector()
  const spill = ResponseSpill.open(makeTempDir(t, 'ffcgi-spill-'), collector)
  t.teardown(() => spill.close())
  spill.write(Buffer.from('first'))
  // the write is still under way: the read waits for it instead of reading nothing
  const got = collector.next()
  spill.read()
  t.ok(spill.busy, 'a read is pending')
  await got
  t.equal(Buffer.concat(collector.pieces).toString(), 'first')
  spill.write(Buffer.from('-second'))
  const back = await readAll(spill, collector)
  t.equal(back.toString(), 'first-second', 'writes and reads interleaved keep the order')
})

t.test('write() says when the disk is behind, and onWritable when it caught up', async (t) => {
  const collector = new Collector()
  const spill = ResponseSpill.open(makeTempDir(t, 'ffcgi-spill-'), collector)
  t.teardown(() => spill.close())
  let accepted = true
  let chunks = 0
  // 64 KiB chunks written in one go: the queue passes 1 MiB before any write completes
  while (accepted && chunks < 64) {
    accepted = spill.write(Buffer.alloc(65536, chunks))
    chunks++
  }
  t.notOk(accepted, 'false once 1 MiB waits for the disk')
  t.notOk(spill.writable)
  for (let i = 0; i < 500 && collector.writable === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(collector.writable, 1, 'told once it can take more')
  t.ok(spill.writable)
})

t.test('close() with a write in flight closes the descriptor once the write is back', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spill-')
  const collector = new Collector()
  const spill = ResponseSpill.open(dir, collector)
  for (let i = 0; i < 8; i++) spill.write(Buffer.alloc(65536, i))
  spill.read()
  spill.close()
  t.notOk(spill.write(Buffer.from('late')), 'a closed spill takes nothing')
  for (let i = 0; i < 200 && descriptorsInto(dir) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(descriptorsInto(dir), 0, 'the descriptor is closed')
  t.same(collector.errors, [], 'no error for a deliberate close')
})

t.test('open() in a directory that does not exist throws, and leaves nothing open', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spill-')
  t.throws(() => ResponseSpill.open(path.join(dir, 'missing'), new Collector()), { code: 'ENOENT' })
  t.equal(descriptorsInto(dir), 0)
})
