// A file that changes while it is being sent never breaks the framing. The client reads the
// head and one chunk, then stops reading (backpressure stops the gateway well before the end of
// a 32 MiB file); the test changes the file and reads on.
// - grown: exactly Content-Length bytes of the original content, and the kept connection
//   serves the next request (status 200 via @fastify/send, and a kept non-200 status);
// - truncated: the connection is aborted short of Content-Length, with a log line, and the
//   gateway keeps serving.
import t from 'tap'
import http from 'node:http'
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { captureLogs } from '../helpers/logs'
import { request } from '../helpers/http'

const SIZE = 32 * 1024 * 1024

interface Outcome { status: number, announced: number, received: number, onlyA: boolean, complete: boolean, gaveUp: boolean }

/** GET `url`; after the first body chunk, pause, run `change`, resume and read to the end or the break. */
async function readAcrossChange (url: string, agent: http.Agent, change: () => void): Promise<Outcome> {
  return await new Promise<Outcome>((resolve, reject) => {
    // a client left waiting for bytes that never come: the test gives up, and says so
    let gaveUp = false
    const timer = setTimeout(() => { gaveUp = true; req.destroy(new Error('no outcome within 120 s')) }, 120000)
    const req = http.get(url, { agent }, (res) => {
      let received = 0
      let onlyA = true
      let changed = false
      res.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (onlyA && chunk.some((b) => b !== 0x61)) onlyA = false
        if (!changed) {
          changed = true
          res.pause()
          change()
          setImmediate(() => res.resume())
        }
      })
      const done = (): void => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, announced: Number(res.headers['content-length']), received, onlyA, complete: res.complete, gaveUp })
      }
      res.once('end', done)
      res.once('close', done)
      res.once('error', () => {})
    })
    req.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
}

t.test('a file changed while sent', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const php = await startPhpCgi(t)
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  for (const status of ['', '&status=404']) {
    t.test(`grown${status}`, async (t) => {
      const file = join(dir, `grow${status === '' ? '' : '-404'}.bin`)
      writeFileSync(file, Buffer.alloc(SIZE, 0x61))
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      t.teardown(() => agent.destroy())
      const outcome = await readAcrossChange(`${base}/sendfile/send.php?v=${encodeURIComponent(file)}${status}`, agent, () => appendFileSync(file, Buffer.alloc(1024 * 1024, 0x62)))
      t.equal(outcome.announced, SIZE)
      t.equal(outcome.received, SIZE, 'cut at Content-Length')
      t.ok(outcome.onlyA, 'only the original bytes')
      t.ok(outcome.complete)
      const next = await new Promise<{ reused: boolean, body: string }>((resolve, reject) => {
        const req = http.get(`${base}/hello.php`, { agent }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => { body += c })
          res.once('end', () => resolve({ reused: req.reusedSocket, body }))
        })
        req.once('error', reject)
      })
      t.ok(next.reused, 'the kept connection carries the next request')
      t.equal(next.body, 'hello from php\n')
    })
  }

  for (const status of ['', '&status=404']) {
    t.test(`truncated${status}`, async (t) => {
      const file = join(dir, `shrink${status === '' ? '' : '-404'}.bin`)
      writeFileSync(file, Buffer.alloc(SIZE, 0x61))
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      t.teardown(() => agent.destroy())
      const before = logs.lines.length
      const outcome = await readAcrossChange(`${base}/sendfile/send.php?v=${encodeURIComponent(file)}${status}`, agent, () => truncateSync(file, 1024 * 1024))
      t.equal(outcome.announced, SIZE)
      t.notOk(outcome.complete, 'the response is broken off')
      t.notOk(outcome.gaveUp, 'by the gateway, not by the client giving up')
      t.ok(outcome.received < SIZE, `short of Content-Length (${outcome.received} bytes)`)
      t.ok(outcome.onlyA, 'nothing but the file\'s bytes')
      for (let i = 0; i < 100 && !logs.lines.slice(before).some((l) => l.msg === 'X-Sendfile file shrank while being sent; aborting the response'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      t.ok(logs.lines.slice(before).some((l) => l.msg === 'X-Sendfile file shrank while being sent; aborting the response'), 'logged')
      const res = await request(`${base}/hello.php`)
      t.equal(res.body.toString(), 'hello from php\n', 'the gateway keeps serving')
    })
  }
})
