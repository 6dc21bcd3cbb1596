// start() failures name the backend and the cause, and leave nothing behind.
import t from 'tap'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import type { SpawnedEvent } from '../../plugin/pool'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { PHP_CGI, alive, groupMembers, recordingLogger, spec, tcp, unix, waitFor } from '../fixtures/pool/support'

function pool (): BackendPool {
  return new BackendPool({ balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 1000 })
}

t.test('a missing binary', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  p.add(spec({ address: unix(join(dir, 'x.sock')), name: 'ghost', binPath: [join(dir, 'nope'), '-x'] }))
  await t.rejects(p.start(), { code: 'FST_FASTCGI_BACKEND_START', message: new RegExp(`backend 'ghost' \\(\\.php\\) at unix:.*x\\.sock-0: ${dir}/nope does not exist`) })
  t.notOk(existsSync(join(dir, 'x.sock-0')))
  t.equal(p.pick('.php', { path: '/', host: '', clientAddress: '' }), undefined, 'a failed pool hands out nothing')
})

t.test('a binary that is not executable', async (t) => {
  const dir = makeTempDir(t)
  const file = join(dir, 'app.fcgi')
  writeFileSync(file, '#!/bin/sh\nexit 0\n')
  chmodSync(file, 0o644)
  const p = pool()
  p.add(spec({ address: unix(join(dir, 'x.sock')), binPath: [file] }))
  await t.rejects(p.start(), { message: /app\.fcgi is not executable/ })
})

t.test('a binary that exits at once', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  p.add(spec({ address: unix(join(dir, 'x.sock')), name: 'false', binPath: ['/bin/false'] }))
  await t.rejects(p.start(), { message: /backend 'false'.*exited right after it was started \(exit code 1\)/ })
  t.notOk(existsSync(join(dir, 'x.sock-0')), 'its socket file is removed')
})

t.test('a program that runs but never answers FastCGI fails start() and is stopped', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  const spawned: SpawnedEvent[] = []
  p.on('spawned', (e) => spawned.push(e))
  p.add(spec({ address: unix(join(dir, 'x.sock')), name: 'sleepy', binPath: ['/bin/sleep', '1000'], connectTimeout: 500 }))
  await t.rejects(p.start(), { message: /backend 'sleepy' .*: \/bin\/sleep 1000 is running but did not answer a FastCGI connection on unix:\S+x\.sock-0 within connectTimeout \(500 ms\)/ })
  t.equal(spawned.length, 1)
  t.ok(await waitFor(() => spawned.every((e) => !alive(e.pid)), 5000), 'the process is gone')
  t.notOk(existsSync(join(dir, 'x.sock-0')), 'its socket file is removed')
})

t.test('probeStarted: false (startupCheck off) lets such a program start', async (t) => {
  const dir = makeTempDir(t)
  const p = new BackendPool({ balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 1000, probeStarted: false })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'x.sock')), binPath: ['/bin/sleep', '1000'], connectTimeout: 500 }))
  await p.start()
  t.equal(p.backends()[0]?.state, 'running')
})

t.test('a socket path taken by a file that is not a socket is left alone', async (t) => {
  const dir = makeTempDir(t)
  writeFileSync(join(dir, 'x.sock-0'), 'precious')
  const p = pool()
  p.add(spec({ address: unix(join(dir, 'x.sock')), binPath: [PHP_CGI] }))
  await t.rejects(p.start(), { message: /x\.sock-0 is taken: the socket path exists and is not a socket/ })
  t.ok(existsSync(join(dir, 'x.sock-0')), 'not unlinked')
})

t.test('a socket directory that does not exist', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  p.add(spec({ address: unix(join(dir, 'missing', 'x.sock')), binPath: [PHP_CGI] }))
  await t.rejects(p.start(), { message: /the directory does not exist/ })
})

t.test('a TCP port held by something that is not FastCGI', async (t) => {
  const server = createServer((_req, res) => res.end('hi'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const p = pool()
  p.add(spec({ address: tcp(port), name: 'web', binPath: [PHP_CGI] }))
  await t.rejects(p.start(), { message: new RegExp(`backend 'web' .*tcp:127\\.0\\.0\\.1:${port} is taken: it answers but not as FastCGI \\("HTTP/1\\.1 400`) })
})

t.test('a failure half-way kills what was already spawned and removes its sockets', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  const spawned: SpawnedEvent[] = []
  p.on('spawned', (e) => spawned.push(e))
  p.add(spec({ address: unix(join(dir, 'good.sock')), name: 'good', binPath: [PHP_CGI], minProcs: 2, maxProcs: 2 }))
  p.add(spec({ address: tcp(await freePort()), name: 'bad', mappingKey: '.bad', binPath: [join(dir, 'missing')] }))
  await t.rejects(p.start(), { message: /backend 'bad'/ })
  t.equal(spawned.length, 2)
  for (const e of spawned) {
    t.notOk(alive(e.pid), `pid ${e.pid} is gone`)
    t.same(groupMembers(e.pid), [], 'and so are its workers')
  }
  t.notOk(existsSync(join(dir, 'good.sock-0')) || existsSync(join(dir, 'good.sock-1')), 'socket files removed')
  await p.close()
})
