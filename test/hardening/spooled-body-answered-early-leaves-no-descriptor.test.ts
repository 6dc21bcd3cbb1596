// A backend that answers before it has read the whole request body (a C app that never reads
// STDIN, an early error page): the spooled body's temp file is closed with the request. Until
// the pump destroyed the file streams it opened, each such request left a descriptor open on
// a deleted file for the life of the process, holding its disk space: a client could exhaust
// descriptors or the spool directory's disk by repeating large uploads.
import t from 'tap'
import fs from 'node:fs'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import { sleep } from './support'

/** This process's descriptors open on files under `dir` (deleted ones included). */
function descriptorsUnder (dir: string): number {
  let count = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) count++
    } catch {} // closed between the listing and the readlink
  }
  return count
}

t.test('20 spooled uploads answered before their body was read', { skip: !fs.existsSync('/proc/self/fd') && 'no /proc' }, async (t) => {
  // the answer goes out as soon as the params are in, while the body is still on its way
  const backend = await startFaultServer(t, { ...faults.ok(), deliverOn: 'params' })
  const spoolDirectory = fs.realpathSync(makeTempDir(t, 'ffcgi-spool-'))
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: process.cwd(), spoolMemoryLimit: 4096, spoolDirectory, server: { '/app': [{ ...backend.options, checkLocal: false }] } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/app`

  for (let i = 0; i < 20; i++) {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.alloc(4 * 1024 * 1024, 0x62) })
    t.equal(res.status, 200)
  }
  // closing and removing run in the background: wait for them, bounded
  const deadline = Date.now() + 10000
  while ((descriptorsUnder(spoolDirectory) > 0 || fs.readdirSync(spoolDirectory).length > 0) && Date.now() < deadline) await sleep(20)
  t.equal(descriptorsUnder(spoolDirectory), 0, 'no descriptor left open on a spool file')
  t.same(fs.readdirSync(spoolDirectory), [], 'no spool file left')
})
