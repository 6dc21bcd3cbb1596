// Probing an address before spawning on it, and handing a listening socket to a child.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { probeAddress, withListeningSocket } from '../../plugin/pool/listen-socket'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { withStaleSocket } from '../fixtures/pool/stale-socket'
import { alive, phpGet, tcp, unix } from '../fixtures/pool/support'

t.test('probe: free, stale, not a socket', async (t) => {
  const dir = makeTempDir(t)
  t.same(await probeAddress(unix(join(dir, 'none')), 500), { kind: 'free' })
  t.same(await probeAddress(tcp(await freePort()), 500), { kind: 'free' })
  await withStaleSocket(join(dir, 'stale'))
  t.same(await probeAddress(unix(join(dir, 'stale')), 500), { kind: 'stale' })
  writeFileSync(join(dir, 'file'), 'x')
  t.match(await probeAddress(unix(join(dir, 'file')), 500), { kind: 'taken', detail: /not a socket/ })
})

t.test('probe: a FastCGI answer, a foreign answer, silence', async (t) => {
  const dir = makeTempDir(t)
  const servers = [
    // FCGI_GET_VALUES_RESULT header, as php-cgi and libfcgi send
    createServer((s) => s.once('data', () => s.end(Buffer.from([1, 10, 0, 0, 0, 0, 0, 0])))),
    createServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n'))),
    createServer(() => {})
  ]
  const paths = ['fcgi', 'foreign', 'silent'].map((n) => join(dir, n))
  await Promise.all(servers.map((server, i) => new Promise<void>((resolve) => server.listen(paths[i], resolve))))
  t.teardown(() => { for (const s of servers) s.close() })
  t.same(await probeAddress(unix(paths[0] ?? ''), 500), { kind: 'fastcgi' })
  t.match(await probeAddress(unix(paths[1] ?? ''), 500), { kind: 'taken', detail: /not as FastCGI \("SSH-2.0/ })
  t.same(await probeAddress(unix(paths[2] ?? ''), 200), { kind: 'fastcgi' }, 'silence gets the benefit of the doubt')
})

t.test('the child inherits the socket as fd 0; the unix socket file survives our close', async (t) => {
  const dir = makeTempDir(t)
  const path = join(dir, 'h.sock')
  const child = await withListeningSocket(unix(path), 16, (fd) =>
    spawn('/usr/bin/php-cgi', [], { stdio: [fd, 'ignore', 'ignore'], detached: true }))
  t.teardown(() => { if (child.pid !== undefined && alive(child.pid)) process.kill(-child.pid, 'SIGKILL') })
  t.ok(existsSync(path))
  t.equal((await phpGet(unix(path))).status, 200, 'php-cgi accepts on it')
  const leftovers = readdirSync(dir)
  t.same(leftovers, ['h.sock'], 'no temporary link left')
})

t.test('a failing use() closes the socket again', async (t) => {
  const dir = makeTempDir(t)
  const path = join(dir, 'f.sock')
  await t.rejects(withListeningSocket(unix(path), 16, () => { throw new Error('boom') }), /boom/)
  t.notOk(existsSync(path))
  const port = await freePort()
  await t.rejects(withListeningSocket(tcp(port), 16, () => { throw new Error('boom') }), /boom/)
  t.same(await probeAddress(tcp(port), 300), { kind: 'free' }, 'the port is free again')
})
