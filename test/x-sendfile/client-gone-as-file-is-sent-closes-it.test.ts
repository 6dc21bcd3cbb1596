// A client that leaves just as the gateway hands an X-Sendfile file to the reply: the file is
// closed with the reply. Before, a reply destroyed before its first read never started the
// reader of the file, so each such request left the file open for the life of the process
// (a client could exhaust descriptors by leaving at that moment, again and again).
import t from 'tap'
import fs from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'
import { request } from '../helpers/http'

/** This process's descriptors open on `file`. */
function descriptorsOn (file: string): number {
  let count = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) count++
    } catch {} // closed between the listing and the readlink
  }
  return count
}

// 200 goes through @fastify/send's stream (reopening the gateway's descriptor through
// /proc/self/fd), another status and X-Sendfile2 through a read stream of that descriptor; the
// gateway's own descriptor on the file counts too
for (const [status, header] of [[200, 'X-Sendfile'], [403, 'X-Sendfile'], [200, 'X-Sendfile2']] as const) {
  t.test(`${header}, status ${status}: 10 clients gone as the file is sent`, { skip: !fs.existsSync('/proc/self/fd') && 'no /proc' }, async (t) => {
    const dir = fs.realpathSync(makeTempDir(t, 'ffcgi-send-'))
    const file = join(dir, 'f.txt')
    fs.writeFileSync(file, 'the file\n')
    const value = header === 'X-Sendfile' ? file : `${encodeURIComponent(file)} 0-`
    const backend = await startFaultServer(t, { ...faults.rawHeaders(Buffer.from(`Status: ${status}\r\nContent-Type: text/plain\r\n${header}: ${value}\r\n\r\n`), '') })
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false, xSendfile: true, xSendfileDocroot: [dir] }] } })
    // the client leaves while the reply is on its way out: after the gateway opened the file,
    // before the reply reads from it
    app.addHook('onSend', async (req) => {
      if (req.headers['x-leave'] === undefined) return
      req.raw.socket.destroy()
      await new Promise((resolve) => req.raw.socket.once('close', resolve))
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`

    for (let i = 0; i < 10; i++) await request(url, { headers: { 'x-leave': '1' }, allowAbort: true }).catch(() => {})
    // closing runs in the background: wait for it, bounded
    const deadline = Date.now() + 5000
    while (descriptorsOn(file) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(descriptorsOn(file), 0, 'the file is not left open')
    const after = await request(url)
    t.equal(after.status, status, 'the next client gets the file')
    t.equal(String(after.body), 'the file\n')

    // every other way a reply ends without reading the file closes it too
    const etag = after.headers.etag
    const others: Array<[string, Record<string, string>, string]> = [['HEAD', {}, 'HEAD'], ['GET', { range: 'bytes=100-200' }, 'Range past the end']]
    if (typeof etag === 'string') others.push(['GET', { 'if-none-match': etag }, 'If-None-Match'], ['GET', { 'if-match': '"nope"' }, 'If-Match failing'])
    for (const [method, headers, name] of others) {
      const res = await request(url, { method, headers })
      t.ok(res.status > 0, `${name}: ${res.status}`)
    }
    const end = Date.now() + 5000
    while (descriptorsOn(file) > 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(descriptorsOn(file), 0, 'HEAD, 304, 412, 416: the file is not left open')
  })
}
