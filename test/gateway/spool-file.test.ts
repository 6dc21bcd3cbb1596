// SpoolFile on its own: a request body's temp file.
import t from 'tap'
import fs from 'node:fs'
import { SpoolFile } from '../../plugin/fastify/spool-file'
import { makeTempDir } from '../helpers/tmp'

/** True once `dir` is empty (removal runs in the background); false after 5 s. */
async function emptied (dir: string): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (fs.readdirSync(dir).length === 0) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}

t.test('what is written is in a 0600 file in the directory once finished', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spoolfile-')
  const file = new SpoolFile(dir)
  t.equal(file.path.slice(0, file.path.lastIndexOf('/')), dir)
  await file.write(Buffer.from('abc'))
  await file.write(Buffer.alloc(1024 * 1024, 0x61)) // past the stream's high-water mark: waits for drain
  await file.finish()
  t.equal(fs.statSync(file.path).mode & 0o777, 0o600)
  t.equal(fs.statSync(file.path).size, 3 + 1024 * 1024)
  t.equal(fs.readFileSync(file.path).subarray(0, 4).toString(), 'abca')
  file.discard()
  t.equal(await emptied(dir), true, 'discard() removes a finished file')
})

t.test('discarded while its first write is in flight: no uncaught error, and no file left', async (t) => {
  const uncaught: Error[] = []
  const onUncaught = (err: Error): void => { uncaught.push(err) }
  process.prependListener('uncaughtException', onUncaught)
  t.teardown(() => process.removeListener('uncaughtException', onUncaught))
  const dir = makeTempDir(t, 'ffcgi-spoolfile-')
  // discarded before its open completes, between open and write, or during the write
  for (let i = 0; i < 60; i++) {
    const file = new SpoolFile(dir)
    void file.write(Buffer.alloc(8192))
    if (i % 3 === 1) await new Promise((resolve) => setImmediate(resolve))
    if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 1))
    file.discard()
  }
  t.equal(await emptied(dir), true, 'every file removed')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(uncaught.map((err) => err.message), [])
})

t.test('after a failure, writing and finishing fail with it', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-spoolfile-')
  const file = new SpoolFile(`${dir}/no-such-directory`)
  // the open fails (ENOENT): the error is kept, not thrown into the event loop
  await t.rejects(async () => { for (let i = 0; i < 100; i++) await file.write(Buffer.alloc(64 * 1024)) }, { code: 'ENOENT' })
  await t.rejects(file.finish(), { code: 'ENOENT' })
  file.discard()
})
