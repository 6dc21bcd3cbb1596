// The pool with remote backends only: selection, load accounting, disable / re-enable, counters.
import t from 'tap'
import { BackendPool } from '../../plugin/pool'
import type { BackendPoolOptions, DisabledEvent, EnabledEvent, PickHint, Proc } from '../../plugin/pool'
import { nextEvent, recordingLogger, spec, tcp, unix, waitFor } from '../fixtures/pool/support'

const hint: PickHint = { path: '/index.php', host: 'example.org', clientAddress: '127.0.0.1' }

function pool (options: Partial<BackendPoolOptions> = {}): BackendPool {
  return new BackendPool({ balance: 'least-connection', debug: false, logger: recordingLogger(), closeGrace: 200, ...options })
}

function mustPick (p: BackendPool, key = '.php', exclude?: ReadonlySet<Proc>): Proc {
  const proc = p.pick(key, hint, exclude)
  if (proc === undefined) throw new Error('pick() found nothing')
  return proc
}

t.test('remote backends are running from add(), without a process', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), name: 'a' }))
  const [info] = p.backends()
  t.match(info, { name: 'a', id: 0, address: 'tcp:127.0.0.1:9000', isLocal: false, state: 'running', load: 0, pid: null, mappingKeys: ['.php'] })
  await p.start()
  await p.close()
})

t.test('pick counts load and requests; release gives it back', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), name: 'a' }))
  const proc = mustPick(p)
  t.equal(proc.load, 1)
  t.match(p.stats(), { 'fastcgi.requests': 1, 'fastcgi.active-requests': 1, 'fastcgi.backend.a.load': 1, 'fastcgi.backend.a.0.load': 1 })
  p.release(proc)
  p.release(proc) // a double release must not go negative
  t.equal(proc.load, 0)
  t.match(p.stats(), { 'fastcgi.requests': 1, 'fastcgi.active-requests': 0, 'fastcgi.backend.a.load': 0 })
  t.equal(p.pick('.nothing', hint), undefined, 'an unknown mapping key has no backend')
  await p.close()
})

t.test('least-connection spreads concurrent requests over hosts of a key', async (t) => {
  const p = pool()
  for (const port of [9000, 9001, 9002]) p.add(spec({ address: tcp(port), name: `b${port}` }))
  const held = Array.from({ length: 300 }, () => mustPick(p))
  const counts = new Map<string, number>()
  for (const proc of held) counts.set(proc.name, (counts.get(proc.name) ?? 0) + 1)
  t.same([...counts.values()], [100, 100, 100])
  for (const proc of held) p.release(proc)
  t.equal(p.stats()['fastcgi.active-requests'], 0)
  await p.close()
})

t.test('round-robin over the pool alternates once per request', async (t) => {
  const p = pool({ balance: 'round-robin' })
  p.add(spec({ address: tcp(9000), name: 'x' }))
  p.add(spec({ address: tcp(9001), name: 'y' }))
  const names: string[] = []
  for (let i = 0; i < 200; i++) {
    const proc = mustPick(p)
    names.push(proc.name)
    p.release(proc)
  }
  t.equal(names.filter((n) => n === 'x').length, 100)
  t.same(names.slice(0, 4), ['x', 'y', 'x', 'y'])
  await p.close()
})

t.test('hash and sticky over the pool are stable per request / per client', async (t) => {
  for (const balance of ['hash', 'sticky'] as const) {
    const p = pool({ balance })
    p.add(spec({ address: tcp(9000), name: 'x' }))
    p.add(spec({ address: tcp(9001), name: 'y' }))
    const seen = new Map<string, Set<string>>()
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) {
        const h = { path: `/p${i}`, host: 'example.org', clientAddress: `10.0.0.${i}` }
        const proc = p.pick('.php', h)
        if (proc === undefined) throw new Error('nothing picked')
        const set = seen.get(String(i)) ?? new Set<string>()
        set.add(proc.name)
        seen.set(String(i), set)
        p.release(proc)
      }
    }
    t.ok([...seen.values()].every((s) => s.size === 1), `${balance}: the same input always lands on the same host`)
    const xs = [...seen.values()].filter((s) => s.has('x')).length
    t.ok(xs > 10 && xs < 90, `${balance}: both hosts are used (${xs}/100 on x)`)
    await p.close()
  }
})

t.test('a refused connect disables the backend for disableTime and requests go elsewhere', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), name: 'down', disableTime: 150 }))
  p.add(spec({ address: tcp(9001), name: 'up', disableTime: 150 }))
  const transitions: string[] = []
  p.on('disabled', (e: DisabledEvent) => transitions.push(`disabled ${e.name} ${e.reason}`))
  p.on('enabled', (e: EnabledEvent) => transitions.push(`enabled ${e.name}`))

  const first = mustPick(p)
  t.equal(first.name, 'down')
  const before = Date.now()
  p.reportConnect(first, 'refused')
  t.equal(first.state, 'disabled')
  const retry = mustPick(p, '.php', new Set([first]))
  t.equal(retry.name, 'up', 'the retry goes to the other backend')
  p.reportConnect(retry, 'connected')
  p.release(first)
  p.release(retry)

  // while disabled, every request goes to "up"
  for (let i = 0; i < 20; i++) {
    const proc = mustPick(p)
    t.equal(proc.name, 'up', 'disabled backend not chosen', { diagnostic: false })
    p.release(proc)
  }
  const info = p.backends().find((b) => b.name === 'down')
  t.ok(info?.disabledUntil !== null && (info?.disabledUntil ?? 0) >= before + 150, 'disabledUntil is disableTime ahead')
  t.equal(p.retryAfterSeconds('.php'), 1)

  await nextEvent<EnabledEvent>(p, 'enabled', 3000)
  t.equal(first.state, 'running')
  t.same(transitions, ['disabled down failed', 'enabled down'])
  t.match(p.stats(), { 'fastcgi.backend.down.0.died': 1, 'fastcgi.backend.down.0.disabled': 1, 'fastcgi.backend.up.0.connected': 1 })
  await p.close()
})

t.test('a second failure report while disabled changes nothing', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), disableTime: 5000 }))
  const a = mustPick(p)
  p.reportConnect(a, 'timeout')
  const until = p.backends()[0]?.disabledUntil
  p.reportConnect(a, 'refused')
  t.equal(p.backends()[0]?.disabledUntil, until)
  t.match(p.backends()[0]?.counters, { died: 2, disabled: 1 })
  t.equal(p.pick('.php', hint), undefined, 'nothing left: the caller answers 503')
  t.ok(p.retryAfterSeconds('.php') >= 4 && p.retryAfterSeconds('.php') <= 5, 'Retry-After is the time left')
  await p.close()
})

t.test('overloaded is a state of its own, with its own counter', async (t) => {
  const p = pool()
  p.add(spec({ address: unix('/nonexistent/php.sock'), disableTime: 100 }))
  const proc = mustPick(p)
  const disabled = nextEvent<DisabledEvent>(p, 'disabled')
  p.reportConnect(proc, 'overloaded')
  t.equal(proc.state, 'overloaded')
  t.equal((await disabled).reason, 'overloaded')
  t.match(proc.counters, { overloaded: 1, died: 0 })
  t.ok(await waitFor(() => proc.state === 'running', 3000), 'back after disableTime')
  await p.close()
})

t.test('two specs with the same address share one host, under different keys', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), mappingKey: '.php', name: 'php' }))
  p.add(spec({ address: tcp(9000), mappingKey: '.php4', name: 'php4' }))
  t.equal(p.backends().length, 1)
  t.same(p.backends()[0]?.mappingKeys, ['.php', '.php4'])
  const a = mustPick(p, '.php')
  const b = mustPick(p, '.php4')
  t.equal(a, b, 'the same Proc object')
  t.equal(a.load, 2, 'one load count')
  t.equal(p.stats()['fastcgi.backend.php.load'], 2)
  await p.close()
})

t.test('two binPaths for one address are a configuration error', async (t) => {
  const p = pool()
  p.add(spec({ address: unix('/tmp/x.sock'), binPath: ['/usr/bin/php-cgi'] }))
  t.throws(() => p.add(spec({ address: unix('/tmp/x.sock'), binPath: ['/usr/bin/other'], mappingKey: '.x' })),
    { code: 'FST_FASTCGI_INVALID_OPTION', message: /different binPath/ })
  t.throws(() => p.add(spec({ address: tcp(1), killSignal: 'SIGNOPE' as NodeJS.Signals })), { code: 'FST_FASTCGI_INVALID_OPTION' })
  await p.close()
})

t.test('close: pick returns undefined, waits for in-flight requests within closeGrace', async (t) => {
  const p = pool({ closeGrace: 2000 })
  p.add(spec({ address: tcp(9000) }))
  const proc = mustPick(p)
  let closed = false
  const closing = p.close().then(() => { closed = true })
  t.equal(p.pick('.php', hint), undefined)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(closed, 'still waiting for the request in flight')
  p.release(proc)
  await closing
  t.ok(closed)
  t.equal(p.close(), p.close(), 'idempotent')
  await p.close()
})

t.test('close gives up waiting for in-flight requests after closeGrace', async (t) => {
  const p = pool({ closeGrace: 100 })
  p.add(spec({ address: tcp(9000) }))
  mustPick(p)
  const started = Date.now()
  await p.close()
  t.ok(Date.now() - started < 1500)
  t.equal(p.backends()[0]?.state, 'stopped')
})

t.test('stats, prometheus and HTML describe the same counters', async (t) => {
  const p = pool()
  p.add(spec({ address: tcp(9000), name: 'a<b>"' }))
  p.add(spec({ address: tcp(9001), name: '' }))
  const x = mustPick(p)
  p.reportConnect(x, 'connected')
  const stats = p.stats()
  t.same(Object.keys(stats).sort(), [
    'fastcgi.active-requests', 'fastcgi.backend..0.connected', 'fastcgi.backend..0.died', 'fastcgi.backend..0.disabled',
    'fastcgi.backend..0.load', 'fastcgi.backend..0.overloaded', 'fastcgi.backend..load',
    'fastcgi.backend.a<b>".0.connected', 'fastcgi.backend.a<b>".0.died', 'fastcgi.backend.a<b>".0.disabled',
    'fastcgi.backend.a<b>".0.load', 'fastcgi.backend.a<b>".0.overloaded', 'fastcgi.backend.a<b>".load', 'fastcgi.requests'
  ].sort())
  t.equal(stats['fastcgi.backend.a<b>".0.connected'], 1)

  const prom = p.prometheus()
  t.match(prom, /^# HELP fastcgi_requests_total /m)
  t.match(prom, /^# TYPE fastcgi_requests_total counter$/m)
  t.match(prom, /^fastcgi_requests_total 1$/m)
  t.match(prom, /^fastcgi_backend_connected_total\{backend="a<b>\\"",process="0",address="tcp:127.0.0.1:9000"\} 1$/m)
  t.match(prom, /^fastcgi_backend_process_up\{backend="",process="0",address="tcp:127.0.0.1:9001"\} 1$/m)
  for (const line of prom.trim().split('\n')) {
    t.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^\n]*\})? \d+)$/, 'exposition line', { diagnostic: false })
  }
  await p.close()
})

t.test('debug: true logs the process list at got proc and release proc', async (t) => {
  const logger = recordingLogger()
  const p = pool({ debug: true, logger })
  p.add(spec({ address: tcp(9000), name: 'a' }))
  const proc = mustPick(p)
  p.release(proc)
  const debug = logger.at('debug')
  t.same(debug.map((e) => e.msg), ['got proc', 'release proc'])
  t.match(debug[0]?.obj, { backend: 'a', load: 1, procs: [{ address: 'tcp:127.0.0.1:9000', isLocal: false, state: 'running', load: 1, pid: null }] })
  t.match(debug[1]?.obj, { load: 0 })
  const quiet = recordingLogger()
  const q = pool({ logger: quiet })
  q.add(spec({ address: tcp(9000) }))
  q.release(mustPick(q))
  t.equal(quiet.entries.length, 0, 'nothing without debug')
  await p.close()
  await q.close()
})

t.test('reports about foreign or unknown procs are ignored', async (t) => {
  const p = pool()
  const other = pool()
  p.add(spec({ address: tcp(9000) }))
  other.add(spec({ address: tcp(9000) }))
  const foreign = mustPick(other)
  p.reportConnect(foreign, 'refused')
  p.release(foreign)
  t.equal(foreign.state, 'running')
  t.equal(foreign.load, 1)
  await p.close()
  await other.close()
})
