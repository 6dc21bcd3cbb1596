// A pool removes at close only the socket files it created. When a respawn finds its address
// served by someone else (lighttpd: "socket is already used; won't spawn"), the process is used
// as a remote one, and the file is no longer ours: before, the pool still removed it at close
// (and on process exit), because it had created a file of that name once. Two gateways with one
// configuration, as in a rolling deploy: the old one's backend crashes, the new one starts and
// replaces the stale file with its own live socket, the old one's respawn uses that socket; the
// old one closing then unlinked the new one's socket, whose processes kept running unreachable.
// Likewise a respawn that finds a file that is not a socket at the path fails (with back-off) and
// leaves the file alone, as start() does; before, it removed the file.
import t from 'tap'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import type { BackendPoolOptions } from '../../plugin/pool'
import { makeTempDir } from '../helpers/tmp'
import { PHP_CGI, phpGet, recordingLogger, spec, unix, waitFor } from '../fixtures/pool/support'

function pool (options: Partial<BackendPoolOptions> = {}): BackendPool {
  return new BackendPool({ balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 1000, ...options })
}

t.test('a socket a respawn found served by another pool stays after close', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const socket = `${base}-0`
  const old = pool({ timing: { backoffInitial: 1500 } })
  t.teardown(() => old.close())
  old.add(spec({ address: unix(base), binPath: [PHP_CGI] }))
  await old.start()
  const oldPid = old.backends()[0]?.pid ?? -1
  process.kill(oldPid, 'SIGKILL')
  t.ok(await waitFor(() => old.backends()[0]?.state === 'died', 5000), 'the old pool\'s process died; its respawn waits')

  const fresh = pool()
  t.teardown(() => fresh.close())
  fresh.add(spec({ address: unix(base), binPath: [PHP_CGI] }))
  await fresh.start()
  t.equal(fresh.backends()[0]?.isLocal, true, 'the new pool replaced the stale file with its own process')

  t.ok(await waitFor(() => old.backends()[0]?.state === 'running', 10_000), 'the old pool respawned')
  t.match(old.backends()[0], { isLocal: false, pid: null }, '... onto the address the new pool serves')

  await old.close()
  t.ok(existsSync(socket), 'the new pool\'s socket file is still there')
  t.equal((await phpGet(unix(socket))).status, 200, 'and the new pool\'s backend still answers on it')
  await fresh.close()
  t.notOk(existsSync(socket), 'the pool that created it removes it')
})

t.test('a respawn that finds a file that is not a socket at its path leaves the file alone', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const socket = `${base}-0`
  const logger = recordingLogger()
  const p = pool({ logger, timing: { backoffInitial: 500, backoffMax: 500 } })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(base), binPath: [PHP_CGI] }))
  await p.start()
  process.kill(p.backends()[0]?.pid ?? -1, 'SIGKILL')
  t.ok(await waitFor(() => p.backends()[0]?.state === 'died', 5000), 'died; the respawn waits')
  rmSync(socket)
  writeFileSync(socket, 'not a socket\n')

  t.ok(await waitFor(() => logger.at('error').some((e) => /cannot be respawned/.test(e.msg)), 5000), 'the respawn fails')
  t.match(logger.at('error').find((e) => /cannot be respawned/.test(e.msg))?.obj, { err: /not a socket/ })
  t.equal(readFileSync(socket, 'utf8'), 'not a socket\n', 'the file is left as it was')
  await p.close()
  t.equal(readFileSync(socket, 'utf8'), 'not a socket\n', '... at close too')
})
