// Respawn with back-off: a crash loop is not a fork storm, and it is logged per state change.
import t from 'tap'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import { makeTempDir } from '../helpers/tmp'
import { phpGet, recordingLogger, sleep, spec, unix, waitFor } from '../fixtures/pool/support'

const CRASHER = join(__dirname, '..', 'fixtures', 'pool', 'crash-when-flagged.sh')

t.test('a crash-looping backend backs off, logs state changes only, and recovers', async (t) => {
  const dir = makeTempDir(t)
  const flag = join(dir, 'crash')
  const logger = recordingLogger()
  const p = new BackendPool({
    balance: 'least-connection',
    debug: false,
    logger,
    closeGrace: 1000,
    timing: { backoffInitial: 50, backoffMax: 400, stableAfter: 1000 }
  })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'c.sock')), name: 'crashy', binPath: [CRASHER], binEnvironment: { CRASH_FLAG: flag } }))
  await p.start()
  const [proc] = p.backends()
  const firstPid = proc?.pid ?? -1
  await sleep(1100) // a first life long enough to count as stable

  let spawns = 0
  let exits = 0
  p.on('spawned', () => { spawns++ })
  p.on('exited', () => { exits++ })
  writeFileSync(flag, '')
  const killedAt = Date.now()
  process.kill(firstPid, 'SIGKILL')
  t.ok(await waitFor(() => spawns >= 3, 10_000), 'respawned again and again')
  await sleep(1000)
  // with 50, 100, 200, 400, 400 ... ms between attempts, the elapsed time bounds how many
  // there can have been (without back-off: hundreds); a slow machine only makes fewer
  const elapsed = Date.now() - killedAt
  let allowed = 0
  for (let waited = 0, wait = 50; waited <= elapsed; wait = Math.min(wait * 2, 400)) {
    waited += wait
    allowed++
  }
  t.ok(spawns <= allowed + 1, `respawns held back by the back-off: ${spawns} in ${elapsed} ms, at most ${allowed + 1}`)
  // 2 s may end in the middle of an attempt; between attempts the backend rests as 'died'
  t.ok(await waitFor(() => p.backends()[0]?.state === 'died' && exits >= spawns, 1000), 'every attempt exited; resting between attempts')
  t.ok((p.backends()[0]?.counters.died ?? 0) >= 3)
  t.ok(p.retryAfterSeconds('.php') >= 1)

  const loud = logger.entries.filter((e) => e.level === 'warn' || e.level === 'error')
  t.ok(loud.length <= 4, `a handful of log lines, not one per attempt: ${JSON.stringify(loud.map((e) => e.msg))}`)
  t.equal(loud.filter((e) => /keeps exiting/.test(e.msg)).length, 1, 'the crash loop is announced once')
  t.equal(loud.filter((e) => /exited \(killed by SIGKILL\)/.test(e.msg)).length, 1, 'the first exit is logged')

  rmSync(flag)
  t.ok(await waitFor(() => p.backends()[0]?.state === 'running', 3000), 'respawned once the cause is gone')
  t.equal((await phpGet(unix(join(dir, 'c.sock-0')))).status, 200)
  t.ok(await waitFor(() => logger.at('info').some((e) => /running steadily again/.test(e.msg)), 3000), 'recovery is logged')
  t.equal(logger.entries.filter((e) => e.level !== 'debug' && /keeps exiting/.test(e.msg)).length, 1)
  await p.close()
})

t.test('the first respawn after a long life is quick', async (t) => {
  const dir = makeTempDir(t)
  const logger = recordingLogger()
  const p = new BackendPool({
    balance: 'least-connection', debug: false, logger, closeGrace: 1000,
    timing: { stableAfter: 300 }
  })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'q.sock')), binPath: ['/usr/bin/php-cgi'] }))
  await p.start()
  await sleep(400)
  for (let round = 0; round < 3; round++) {
    const pid = p.backends()[0]?.pid ?? -1
    process.kill(pid, 'SIGKILL')
    t.ok(await waitFor(() => p.backends()[0]?.state === 'running' && p.backends()[0]?.pid !== pid, 10_000), `round ${round}: back`)
    // the delay the pool chose, not the wall clock: a long life resets the back-off to its first step
    const exit = logger.at('warn').filter((e) => /exited/.test(e.msg)).at(-1)
    const retryIn = exit?.obj !== undefined && 'retryIn' in exit.obj ? Number(exit.obj.retryIn) : NaN
    t.ok(retryIn <= 100, `round ${round}: respawn scheduled after the first back-off step (${retryIn} ms)`)
    await sleep(400)
  }
  t.equal(p.backends()[0]?.counters.died, 3)
  await p.close()
})
