// Spawning real php-cgi processes on sockets the pool creates and hands over as fd 0.
import t from 'tap'
import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import type { BackendPoolOptions, BackendSpec, ExitedEvent, SpawnedEvent } from '../../plugin/pool'
import { freePort } from '../helpers/ports'
import { makeTempDir } from '../helpers/tmp'
import { buildCApp } from '../helpers/libfcgi'
import { withStaleSocket } from '../fixtures/pool/stale-socket'
import { guardInstalled } from '../../plugin/pool/process-guard'
import {
  PHP_CGI, alive, groupMembers, nextEvent, phpGet, recordingLogger, spec, tcp, unix, waitFor
} from '../fixtures/pool/support'

const FIXTURES = join(__dirname, '..', 'fixtures', 'pool')
const hint = { path: '/hello.php', host: 'localhost', clientAddress: '127.0.0.1' }

function pool (options: Partial<BackendPoolOptions> = {}): BackendPool {
  return new BackendPool({ balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 2000, ...options })
}

function phpSpec (address: BackendSpec['address'], over: Partial<BackendSpec> = {}): BackendSpec {
  return spec({ address, binPath: [PHP_CGI], binEnvironment: { PHP_FCGI_CHILDREN: '2' }, ...over })
}

function environOf (pid: number): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

t.test('php-cgi on unix sockets <socket>-<n>: answers, then close leaves no process and no file', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const p = pool()
  t.teardown(() => p.close())
  const spawned: SpawnedEvent[] = []
  p.on('spawned', (e) => spawned.push(e))
  p.add(phpSpec(unix(base), { minProcs: 2, maxProcs: 2 }))
  await p.start()

  t.same(spawned.map((e) => e.address).sort(), [`unix:${base}-0`, `unix:${base}-1`])
  const infos = p.backends()
  t.equal(infos.length, 2)
  for (const info of infos) {
    t.match(info, { isLocal: true, state: 'running', name: 'php' })
    t.type(info.pid, 'number')
  }
  const pids = infos.map((i) => i.pid ?? -1)
  // the master forks its workers after it listens, some time after spawn: wait for them (bounded)
  for (const pid of pids) t.ok(await waitFor(() => groupMembers(pid).length === 3, 10_000), 'php-cgi master plus PHP_FCGI_CHILDREN=2 workers')

  for (const n of [0, 1]) {
    t.ok(existsSync(`${base}-${n}`), `socket file ${n} exists`)
    const answer = await phpGet(unix(`${base}-${n}`))
    t.equal(answer.status, 200)
    t.equal(answer.body, 'hello from php\n')
  }

  const members = pids.flatMap((pid) => groupMembers(pid))
  await p.close()
  t.ok(await waitFor(() => members.every((pid) => !alive(pid)), 5000), 'no php-cgi process left (master or worker)')
  t.notOk(existsSync(`${base}-0`) || existsSync(`${base}-1`), 'socket files removed')
  t.same(p.backends().map((b) => b.state), ['stopped', 'stopped'])
})

t.test('php-cgi on TCP port + n, host defaulting to 127.0.0.1', async (t) => {
  const port = await freePort()
  const p = pool()
  t.teardown(() => p.close())
  p.add(phpSpec(tcp(port, '')))
  await p.start()
  const [info] = p.backends()
  t.equal(info?.address, `tcp:127.0.0.1:${port}`)
  const answer = await phpGet(tcp(port))
  t.equal(answer.body, 'hello from php\n')
  t.ok(guardInstalled(), 'SIGTERM/SIGINT/exit handlers while processes exist')
  const pid = info?.pid ?? -1
  await p.close()
  t.ok(await waitFor(() => !alive(pid), 5000), 'the process is gone after close()')
  t.notOk(guardInstalled(), 'and removed by close()')
  // the port is free again: something else can listen on it
  const p2 = pool()
  t.teardown(() => p2.close())
  p2.add(phpSpec(tcp(port)))
  await p2.start()
  t.equal((await phpGet(tcp(port))).status, 200)
  await p2.close()
})

t.test('environment: binCopyEnvironment starts empty, binEnvironment overrides, PHP_FCGI_CHILDREN=1 by default; cwd is dirname(argv[0])', async (t) => {
  const dir = makeTempDir(t)
  const p = pool()
  t.teardown(() => p.close())
  process.env.POOL_TEST_COPIED = 'copied'
  process.env.POOL_TEST_NOT_COPIED = 'secret'
  t.teardown(() => {
    delete process.env.POOL_TEST_COPIED
    delete process.env.POOL_TEST_NOT_COPIED
  })
  p.add(spec({
    address: unix(join(dir, 'a.sock')),
    name: 'copy',
    binPath: [PHP_CGI],
    binCopyEnvironment: ['PATH', 'POOL_TEST_COPIED', 'NOT_SET_ANYWHERE'],
    binEnvironment: { EXTRA: 'x y', PATH: '/usr/bin:/bin' }
  }))
  p.add(spec({ address: unix(join(dir, 'b.sock')), name: 'all', mappingKey: '.b', binPath: [PHP_CGI] }))
  await p.start()
  const [copy, all] = p.backends()
  // tap's process tracking injects NODE_OPTIONS and _TAPJS_* into every child it sees spawned
  const copyEnv = Object.fromEntries(Object.entries(environOf(copy?.pid ?? -1)).filter(([k]) => !/^(_TAPJS_|NODE_OPTIONS$)/.test(k)))
  t.same(Object.keys(copyEnv).sort(), ['EXTRA', 'PATH', 'PHP_FCGI_CHILDREN', 'POOL_TEST_COPIED'])
  t.match(copyEnv, { EXTRA: 'x y', PATH: '/usr/bin:/bin', PHP_FCGI_CHILDREN: '1', POOL_TEST_COPIED: 'copied' })
  const allEnv = environOf(all?.pid ?? -1)
  t.equal(allEnv.POOL_TEST_NOT_COPIED, 'secret', 'without binCopyEnvironment the whole environment is passed')
  t.equal(readlinkSync(`/proc/${copy?.pid ?? -1}/cwd`), '/usr/bin')
  await p.close()
})

t.test('child stderr lines go to logger.warn with backend name and pid', async (t) => {
  const dir = makeTempDir(t)
  const logger = recordingLogger()
  const p = pool({ logger })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 's.sock')), name: 'noisy', binPath: [join(FIXTURES, 'stderr-then-php.sh')] }))
  await p.start()
  const pid = p.backends()[0]?.pid
  t.ok(await waitFor(() => logger.at('warn').length >= 2, 5000))
  const lines = logger.at('warn').filter((e) => e.obj.pid === pid && e.obj.backend === 'noisy').map((e) => e.msg)
  t.same(lines, ['stderr-then-php: starting up', 'stderr-then-php: second line'])
  t.equal(cwdOf(pid), FIXTURES, 'cwd is the directory of the script')
  await p.close()
})

function cwdOf (pid: number | null | undefined): string {
  return pid === null || pid === undefined ? '' : readlinkSync(`/proc/${pid}/cwd`)
}

t.test('kill -9 of a spawned php-cgi: exited, spawned again, died counted, serves again', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const logger = recordingLogger()
  const p = pool({ logger })
  t.teardown(() => p.close())
  p.add(phpSpec(unix(base), { minProcs: 2, maxProcs: 2 }))
  await p.start()
  const victim = p.pick('.php', hint)
  if (victim === undefined || victim.pid === undefined) throw new Error('nothing to kill')
  const oldPid = victim.pid
  t.ok(await waitFor(() => groupMembers(oldPid).length === 3, 10_000), 'the master has forked its two workers')
  const oldGroup = groupMembers(oldPid)

  const exited = nextEvent<ExitedEvent>(p, 'exited')
  const respawned = nextEvent<SpawnedEvent>(p, 'spawned', 5000)
  process.kill(oldPid, 'SIGKILL')
  const exit = await exited
  t.match(exit, { name: 'php', pid: oldPid, code: null, signal: 'SIGKILL' })
  t.equal(victim.state, 'died', 'died at once')
  t.equal(p.pick('.php', hint, new Set())?.id, 1 - victim.id, 'requests go to the other process meanwhile')
  const again = await respawned
  t.equal(again.address, `unix:${base}-${victim.id}`)
  t.not(again.pid, oldPid)
  t.equal(victim.pid, again.pid, 'the same Proc object, with the new pid')
  t.equal(victim.state, 'running')
  t.equal(victim.counters.died, 1)
  t.equal(p.stats()[`fastcgi.backend.php.${victim.id}.died`], 1)
  t.ok(await waitFor(() => oldGroup.every((pid) => !alive(pid)), 5000), 'the orphaned PHP workers of the killed master are gone too')
  t.equal((await phpGet(victim.address)).body, 'hello from php\n')
  t.equal(logger.at('warn').filter((e) => /exited/.test(e.msg)).length, 1, 'one log line for the exit')
  await p.close()
})

t.test('an address that already answers FastCGI is used, not spawned on (and not removed at close)', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const first = pool()
  t.teardown(() => first.close())
  first.add(phpSpec(unix(base)))
  await first.start()

  const logger = recordingLogger()
  const second = pool({ logger })
  t.teardown(() => second.close())
  let spawns = 0
  second.on('spawned', () => { spawns++ })
  second.add(phpSpec(unix(base)))
  await second.start()
  t.equal(spawns, 0)
  t.match(second.backends()[0], { isLocal: false, state: 'running', pid: null })
  t.ok(logger.at('info').some((e) => /already answers/.test(e.msg)))
  await second.close()
  t.ok(existsSync(`${base}-0`), 'the other pool\'s socket stays')
  t.equal((await phpGet(unix(`${base}-0`))).status, 200)
  await first.close()
})

t.test('a stale socket file is replaced', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  // a pool that is never closed properly leaves its file behind: simulate with a dead listener
  await withStaleSocket(`${base}-0`)
  t.ok(existsSync(`${base}-0`))
  const p = pool()
  t.teardown(() => p.close())
  p.add(phpSpec(unix(base)))
  await p.start()
  t.equal(p.backends()[0]?.isLocal, true)
  t.equal((await phpGet(unix(`${base}-0`))).status, 200)
  await p.close()
  t.notOk(existsSync(`${base}-0`))
})

t.test('two mappings naming one address share the spawned processes (only one has binPath)', async (t) => {
  const dir = makeTempDir(t)
  const base = join(dir, 'php.sock')
  const p = pool()
  t.teardown(() => p.close())
  let spawns = 0
  p.on('spawned', () => { spawns++ })
  p.add(spec({ address: unix(base), mappingKey: '.php4', name: 'php' }))
  p.add(phpSpec(unix(base), { mappingKey: '.php', minProcs: 2, maxProcs: 2 }))
  await p.start()
  t.equal(spawns, 2)
  t.equal(p.backends().length, 2)
  t.same(p.backends()[0]?.mappingKeys, ['.php4', '.php'])
  const a = p.pick('.php', hint)
  const b = p.pick('.php4', hint)
  t.ok(a !== undefined && b !== undefined && a !== b, 'least-connection spreads over the shared processes')
  t.equal(p.stats()['fastcgi.backend.php.load'], 2, 'one load count')
  await p.close()
})

t.test('killSignal reaches the process; one that ignores it is SIGKILLed after closeGrace', async (t) => {
  const dir = makeTempDir(t)
  const p = pool({ closeGrace: 300 })
  p.add(spec({ address: unix(join(dir, 'i.sock')), name: 'stubborn', binPath: [join(FIXTURES, 'ignore-term.sh'), buildCApp('hello')] }))
  // a libfcgi application: SIGUSR1 (here as a number) is its shutdown signal
  p.add(spec({ address: unix(join(dir, 'u.sock')), name: 'usr1', mappingKey: '.u', binPath: [buildCApp('hello')], killSignal: 10 }))
  const exits: ExitedEvent[] = []
  p.on('exited', (e) => exits.push(e))
  await p.start()
  const pids = p.backends().map((b) => b.pid ?? -1)
  const started = Date.now()
  await p.close()
  // SIGKILL comes only after closeGrace: a lower bound that holds on any machine (no upper one)
  t.ok(Date.now() - started >= 250, 'close() waited closeGrace for the process that ignores SIGTERM')
  t.match(exits.find((e) => e.name === 'stubborn'), { signal: 'SIGKILL' }, 'SIGTERM ignored: SIGKILL after closeGrace')
  t.match(exits.find((e) => e.name === 'usr1'), { signal: null, code: 0 }, 'libfcgi finishes cleanly on SIGUSR1')
  t.ok(await waitFor(() => pids.every((pid) => !alive(pid)), 5000), 'both processes are gone')
})
