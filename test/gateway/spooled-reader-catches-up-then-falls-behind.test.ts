// A response spooled for a reader that fell behind goes back to the reader directly once the
// reader has emptied the temp file, and spools again if it falls behind again: one file per
// response, every byte in order across both changes. The backend here sends the first half,
// waits for the test to say so, then sends the second half: the reader empties the file while
// the backend is still at it.
import t from 'tap'
import { startFaultServer } from '../helpers/fault-server'
import { listenGateway } from '../helpers/listen'
import { requestStream } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import { descriptorsInto, waitUntil } from '../helpers/descriptors'
import { PatternChecker, patternBytes } from '../helpers/pattern'
import { sleep } from '../hardening/support'

const HALF = 24 * 1024 * 1024
const RECORD = 65528



t.test('caught up, the body goes direct again; behind again, it spools again; every byte in order', async (t) => {
  let secondHalf: () => void = () => {}
  const go = new Promise<void>((resolve) => { secondHalf = resolve })
  const backend = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      await conn.stdout('Content-Type: application/octet-stream\r\n\r\n', req.requestId)
      for (let at = 0; at < HALF && !conn.isClosed; at += RECORD) await conn.stdout(patternBytes(at, Math.min(RECORD, HALF - at)), req.requestId)
      await go
      for (let at = HALF; at < 2 * HALF && !conn.isClosed; at += RECORD) await conn.stdout(patternBytes(at, Math.min(RECORD, 2 * HALF - at)), req.requestId)
      await conn.respond('', req.requestId)
    }
  })
  const spoolDirectory = makeTempDir(t, 'ffcgi-response-spool-')
  const { base } = await listenGateway(t, { documentRoot: process.cwd(), spoolDirectory, server: { '/big': [{ ...backend.options, checkLocal: false }] } })
  const { req, res } = await requestStream(`${base}/big`)
  t.teardown(() => { req.destroy() })
  res.pause()
  const checker = new PatternChecker()
  res.on('data', (chunk: Buffer) => checker.push(chunk))

  // behind: the first half goes to the file
  await waitUntil('spooling', () => descriptorsInto(spoolDirectory) === 1)
  t.pass('the paused reader\'s response spools')
  // the reader catches up with everything the backend has sent so far
  res.resume()
  await waitUntil('the first half read', () => checker.bytes >= HALF, 60000)
  t.equal(checker.bytes, HALF, 'the reader emptied the file: the first half, no more')
  t.equal(descriptorsInto(spoolDirectory), 1, 'the file stays open for the rest of the response')

  // behind again while the backend sends the second half
  res.pause()
  secondHalf()
  let ended = false
  res.once('end', () => { ended = true })
  await sleep(1000)
  res.resume()
  await waitUntil('the end of the body', () => ended || res.destroyed, 60000)
  t.ok(ended, 'the body ends')
  t.ok(checker.ok(2 * HALF), `every byte in order across both spools (got ${checker.bytes}, first mismatch ${checker.firstMismatch})`)
  await waitUntil('file closed', () => descriptorsInto(spoolDirectory) === 0)
  t.equal(descriptorsInto(spoolDirectory), 0, 'closed at the end')
})
