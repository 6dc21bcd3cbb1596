// minProcs / maxProcs / maxLoadPerProc / idleTimeout (lighttpd §7.6), on a fast maintenance clock.
import t from 'tap'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import type { Proc } from '../../plugin/pool'
import { makeTempDir } from '../helpers/tmp'
import { PHP_CGI, alive, phpGet, recordingLogger, sleep, spec, unix, waitFor } from '../fixtures/pool/support'

const hint = { path: '/hello.php', host: 'localhost', clientAddress: '127.0.0.1' }

function pool (): BackendPool {
  return new BackendPool({
    balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 1000,
    timing: { maintenanceInterval: 50 }
  })
}

const inUse = (p: BackendPool): number => p.backends().filter((b) => b.state !== 'stopped').length

t.test('overload spawns up to maxProcs; idle processes beyond minProcs are stopped', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'a.sock')), binPath: [PHP_CGI], minProcs: 1, maxProcs: 3, maxLoadPerProc: 1, idleTimeout: 300 }))
  await p.start()
  t.equal(p.backends().length, 1)

  const held: Proc[] = []
  for (let i = 0; i < 12; i++) {
    const proc = p.pick('.php', hint)
    if (proc !== undefined) held.push(proc)
    await sleep(30)
  }
  t.ok(await waitFor(() => p.backends().filter((b) => b.state === 'running').length === 3, 5000), 'grew to maxProcs')
  await sleep(300)
  t.equal(p.backends().length, 3, 'never beyond maxProcs')
  for (const b of p.backends()) t.equal((await phpGet(unix(`${join(dir, 'a.sock')}-${b.id}`))).status, 200, `process ${b.id} serves`)

  const pids = p.backends().map((b) => b.pid ?? -1)
  for (const proc of held) p.release(proc)
  t.ok(await waitFor(() => inUse(p) === 1, 5000), 'shrank back to minProcs')
  t.same(p.backends().map((b) => b.state), ['running', 'stopped', 'stopped'], 'the highest-numbered go first')
  t.ok(await waitFor(() => !alive(pids[1] ?? -1) && !alive(pids[2] ?? -1), 3000), 'stopped processes exited')
  t.equal(p.backends()[0]?.counters.died, 0, 'an idle stop is not a death')

  // load again: the stopped slots are reused
  const again = [p.pick('.php', hint), p.pick('.php', hint)]
  t.ok(await waitFor(() => inUse(p) === 2, 5000), 'a stopped slot is spawned again')
  for (const proc of again) if (proc !== undefined) p.release(proc)
  await p.close()
})

t.test('minProcs 0: nothing at start, a process on the first request', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'z.sock')), binPath: [PHP_CGI], minProcs: 0, maxProcs: 2 }))
  await p.start()
  t.equal(p.backends().length, 0)
  t.equal(p.pick('.php', hint), undefined, 'the first request finds nothing yet (503 + Retry-After)')
  t.equal(p.retryAfterSeconds('.php'), 1)
  t.ok(await waitFor(() => p.backends()[0]?.state === 'running', 5000), 'but it started one')
  const proc = p.pick('.php', hint)
  t.equal(proc?.isLocal, true)
  if (proc !== undefined) p.release(proc)
  await p.close()
})
