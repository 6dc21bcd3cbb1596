// Soak: 200,000 requests (or as many as fit in SOAK_SECONDS, 240 by default: the test says
// which bound it hit), 32 at a time, half on keep-alive client connections and half on fresh
// ones, against four spawned libfcgi processes (one killed with SIGKILL every 10 s and
// respawned by the pool), php-fpm, and the fault server answering ~5% of all requests with a
// fault (broken headers, garbage, stalls, truncated bodies, overload, wrong request id).
// Afterwards: every request got an answer of the class its backend's behaviour calls for
// (nothing hung), the process's fds and sockets and its process/server listeners are back
// where they were, pool loads are 0, heap after GC is steady, and there was no unhandled
// rejection and no uncaught exception. SOAK_REQUESTS and SOAK_SECONDS change the bounds.
import t from 'tap'
import http from 'node:http'
import { readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiHostOptions } from '../../plugin'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'
import { buildCApp, hasLibfcgi } from '../helpers/libfcgi'
import { faults, startFaultServer } from '../helpers/fault-server'
import type { FaultBehaviour, RequestScript } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'
import { sleep } from './support'

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 200_000)
const SECONDS = Number(process.env.SOAK_SECONDS ?? 240)
const CONCURRENCY = 32
const KILL_EVERY_MS = 10_000
t.setTimeout((SECONDS + 120) * 1000)

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function fdInfo (): { fds: number, sockets: number } {
  let fds = 0
  let sockets = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    fds++
    try { if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) sockets++ } catch {}
  }
  return { fds, sockets }
}

function heapAfterGc (): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

const PROCESS_EVENTS = ['exit', 'beforeExit', 'SIGTERM', 'SIGINT', 'SIGHUP', 'uncaughtException', 'unhandledRejection', 'warning', 'message'] as const
const SERVER_EVENTS = ['connection', 'request', 'close', 'error', 'listening', 'checkContinue', 'clientError', 'upgrade'] as const

function listenerCounts (server: http.Server): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const e of PROCESS_EVENTS) counts[`process.${e}`] = process.listenerCount(e)
  for (const e of SERVER_EVENTS) counts[`server.${e}`] = server.listenerCount(e)
  return counts
}

// what the fault server does, chosen by the client through `?fault=`
type Expect = 'complete' | '502' | '503' | '504' | 'aborted'
// A backend that closes mid-body before the head went out (the gateway holds a head for up to
// 1 ms to send a page whole) gets a 502; after it, the client sees the response cut short.
const FAULTS: Record<string, [FaultBehaviour, Expect | '502 or aborted']> = {
  closeMidHeaders: [faults.closeMidHeaders(), '502'],
  garbage: [faults.garbage(), '502'],
  endWithoutStdout: [faults.endWithoutStdout(), '502'],
  wrongRequestId: [faults.wrongRequestId(), '502'],
  badHeader: [faults.rawHeaders('Content-Type: text/plain\r\nX-A: a\rb\r\n\r\n', 'x'), '502'],
  overloaded: [faults.endStatus('overloaded'), '503'],
  stallBeforeHeaders: [faults.stallBeforeHeaders(), '504'],
  closeMidBody: [faults.closeMidBody(1000, 5000), '502 or aborted'],
  stallMidBody: [faults.stallMidBody(), 'aborted'],
  lengthOverstated: [faults.rawHeaders('Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n', 'short'), 'aborted']
}
const FAULT_NAMES = Object.keys(FAULTS)
const OK_SCRIPT = faults.ok('fault server ok\n').onRequest as RequestScript
const ONE_BYTE_SCRIPT = faults.oneByteAtATime().onRequest as RequestScript

// a small deterministic PRNG: the same request mix on every run
function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let r = Math.imul(s ^ (s >>> 15), 1 | s)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

interface Planned { method: string, path: string, body: Buffer | undefined, expect: Expect | '502 or aborted', kind: 'c' | 'php' | 'fault' | 'fault-ok', check?: (status: number, headers: http.IncomingHttpHeaders, bytes: number) => boolean }
interface Outcome { status: number, complete: boolean, aborted: boolean, timedOut: boolean, bytes: number, headers: http.IncomingHttpHeaders }

function send (port: number, plan: Planned, agent: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false
    const done = (o: Outcome): void => { if (!settled) { settled = true; clearTimeout(timer); resolve(o) } }
    const headers: http.OutgoingHttpHeaders = plan.body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': plan.body.length }
    const req = http.request({ host: '127.0.0.1', port, method: plan.method, path: plan.path, headers, agent })
    const timer = setTimeout(() => { req.destroy(); done({ status: 0, complete: false, aborted: false, timedOut: true, bytes: 0, headers: {} }) }, 20_000)
    req.on('error', () => done({ status: 0, complete: false, aborted: true, timedOut: false, bytes: 0, headers: {} }))
    req.on('response', (res) => {
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length })
      res.on('end', () => done({ status: res.statusCode ?? 0, complete: res.complete, aborted: !res.complete, timedOut: false, bytes, headers: res.headers }))
      res.on('error', () => done({ status: res.statusCode ?? 0, complete: false, aborted: true, timedOut: false, bytes, headers: res.headers }))
      res.on('close', () => done({ status: res.statusCode ?? 0, complete: res.complete, aborted: !res.complete, timedOut: false, bytes, headers: res.headers }))
    })
    req.end(plan.body)
  })
}

t.test('soak', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const unhandled: unknown[] = []
  const uncaught: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  const onUncaught = (err: unknown): void => { uncaught.push(err) }
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUncaught)
  t.teardown(() => {
    process.removeListener('unhandledRejection', onUnhandled)
    process.removeListener('uncaughtException', onUncaught)
  })

  const dir = makeTempDir(t, 'ffcgi-soak-')
  const faultServer = await startFaultServer(t, {
    onRequest: async (req, conn) => {
      const fault = /(?:^|&)fault=([A-Za-z]+)/.exec(req.param('QUERY_STRING') ?? '')?.[1] ?? 'ok'
      if (fault === 'ok') return OK_SCRIPT(req, conn)
      if (fault === 'oneByte') return ONE_BYTE_SCRIPT(req, conn)
      const script = FAULTS[fault]?.[0].onRequest
      if (script !== undefined) return script(req, conn)
      return OK_SCRIPT(req, conn)
    }
  })
  const fpm = hasPhpFpm() ? await startPhpFpm(t, { children: 4 }) : undefined
  const server: Record<string, FastcgiHostOptions[] | Record<string, FastcgiHostOptions>> = {
    '/c/': { hello: { binPath: buildCApp('hello'), socket: join(dir, 'hello.sock'), minProcs: 4, maxProcs: 4, checkLocal: false, maxConcurrency: 1, queueTimeout: 15_000 } },
    // a short read timeout for the stall faults; the fault server shares this event loop, so
    // its well-behaved answers (one byte at a time among them) get a timeout no lag reaches;
    // 1.5 s leaves room for the lag of a loaded 2-core machine running other test files
    '/f/': [{ ...faultServer.options, checkLocal: false, readTimeout: 1500 }],
    '/g/': [{ ...faultServer.options, checkLocal: false, readTimeout: 10_000 }]
  }
  if (fpm !== undefined) server['.php'] = [{ ...fpm.options, maxConcurrency: 4 }]
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  const random = prng(20251126)
  const plan = (): Planned => {
    const r = random()
    if (r < 0.05) {
      const name = FAULT_NAMES[Math.floor(random() * FAULT_NAMES.length)] as string
      return { method: 'GET', path: `/f/x?fault=${name}`, body: undefined, expect: (FAULTS[name] as [FaultBehaviour, Planned['expect']])[1], kind: 'fault' }
    }
    if (r < 0.10) return { method: 'GET', path: `/g/x?fault=${random() < 0.05 ? 'oneByte' : 'ok'}`, body: undefined, expect: 'complete', kind: 'fault-ok' }
    if (fpm !== undefined && r < 0.20) {
      if (random() < 0.5) return { method: 'GET', path: '/hello.php', body: undefined, expect: 'complete', kind: 'php', check: (s, _h, n) => s === 200 && n === 15 }
      const size = Math.floor(random() * 4096)
      return { method: 'POST', path: '/echo.php', body: Buffer.alloc(size, 0x70), expect: 'complete', kind: 'php', check: (s, h, n) => s === 200 && n === size && h['x-body-length'] === String(size) }
    }
    const c = random()
    if (c < 0.6) {
      const size = Math.floor(random() * 20_000)
      return { method: 'GET', path: `/c/x?bytes=${size}`, body: undefined, expect: 'complete', kind: 'c', check: (s, _h, n) => s === 200 && n === size }
    }
    if (c < 0.9) {
      const size = Math.floor(random() * 8192)
      return { method: 'POST', path: '/c/x?md5=1', body: Buffer.alloc(size, 0x63), expect: 'complete', kind: 'c', check: (s, h) => s === 200 && h['x-stdin-length'] === String(size) }
    }
    return { method: 'HEAD', path: '/c/x', body: undefined, expect: 'complete', kind: 'c', check: (s, _h, n) => s === 200 && n === 0 }
  }

  let keepAlive = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const stats = { sent: 0, answered: 0, timedOut: 0, wrong: 0, cCasualties: 0, byKind: {} as Record<string, number>, byOutcome: {} as Record<string, number> }
  const wrongExamples: string[] = []
  const classify = (o: Outcome): Expect | 'other' => {
    if (o.aborted) return 'aborted'
    if (o.complete && o.status === 502) return '502'
    if (o.complete && o.status === 503) return '503'
    if (o.complete && o.status === 504) return '504'
    if (o.complete) return 'complete'
    return 'other'
  }
  const runOne = async (p: Planned, useKeepAlive: boolean): Promise<void> => {
    const o = await send(port, p, useKeepAlive ? keepAlive : false)
    if (o.timedOut) { stats.timedOut++; return }
    stats.answered++
    const got = classify(o)
    const key = `${p.kind}:${got}${got === 'complete' ? `:${o.status}` : ''}`
    stats.byOutcome[key] = (stats.byOutcome[key] ?? 0) + 1
    const expected = got === p.expect || (p.expect === '502 or aborted' && (got === '502' || got === 'aborted'))
    const ok = expected && (p.check === undefined || p.check(o.status, o.headers, o.bytes))
    if (ok) return
    // a request on a process killed under it may fail; nothing else may
    if (p.kind === 'c' && (got === '502' || got === '503' || got === 'aborted')) { stats.cCasualties++; return }
    stats.wrong++
    if (wrongExamples.length < 10) wrongExamples.push(`${p.method} ${p.path}: expected ${p.expect}, got ${got} ${o.status} (${o.bytes} bytes)`)
  }

  // the fault server keeps every request it got: let them go, so that its memory is not ours
  const forgetFaultRequests = (): void => { faultServer.requests.splice(0) }
  // quiet: client connections closed, the gateway's kept connections timed out (5 s), respawns done
  const quiesce = async (): Promise<void> => {
    keepAlive.destroy()
    for (let i = 0; i < 100 && app.fastcgi.backends().some((b) => b.load !== 0 || b.state !== 'running'); i++) await sleep(100)
    await sleep(6000)
    forgetFaultRequests()
  }

  // warm up, then take the baseline in a quiet moment
  for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 20 }, (_v, k) => runOne(plan(), k % 2 === 0)))
  await quiesce()
  Object.assign(stats, { answered: 0, timedOut: 0, wrong: 0, cCasualties: 0, byOutcome: {} })
  wrongExamples.splice(0)
  const startFd = fdInfo()
  const startHeap = heapAfterGc()
  const startListeners = listenerCounts(app.server)
  const heapSamples: number[] = []

  const started = Date.now()
  const deadline = started + SECONDS * 1000
  let kills = 0
  const killer = setInterval(() => {
    const victims = app.fastcgi.backends().filter((b) => b.name === 'hello' && b.state === 'running' && b.pid !== null)
    const victim = victims[kills % Math.max(1, victims.length)]
    if (victim?.pid != null) {
      try { process.kill(victim.pid, 'SIGKILL'); kills++ } catch {}
    }
  }, KILL_EVERY_MS)
  keepAlive = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const sampler = setInterval(() => { forgetFaultRequests(); heapSamples.push(heapAfterGc()) }, 10_000)
  let next = 0
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      if (next >= TOTAL || Date.now() >= deadline) return
      next++
      stats.sent++
      await runOne(plan(), (next + w) % 2 === 0)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_v, w) => worker(w)))
  const elapsed = (Date.now() - started) / 1000
  clearInterval(killer)
  clearInterval(sampler)

  await quiesce()
  const endFd = fdInfo()
  const endHeap = heapAfterGc()
  const endListeners = listenerCounts(app.server)
  const capHit = stats.sent < TOTAL

  t.comment(`soak: ${stats.sent} requests in ${elapsed.toFixed(1)} s (${(stats.sent / elapsed).toFixed(0)}/s), ${capHit ? `the ${SECONDS} s cap hit first (of ${TOTAL})` : `all ${TOTAL} done`}, ${kills} kills`)
  t.comment(`outcomes: ${JSON.stringify(stats.byOutcome)}`)
  t.comment(`fds ${startFd.fds} -> ${endFd.fds}, sockets ${startFd.sockets} -> ${endFd.sockets}, heap after GC ${(startHeap / 1048576).toFixed(1)} -> ${(endHeap / 1048576).toFixed(1)} MiB, samples ${heapSamples.map((h) => (h / 1048576).toFixed(1)).join(' ')}`)
  if (wrongExamples.length > 0) t.comment(`wrong answers: ${wrongExamples.join('; ')}`)

  t.ok(stats.sent >= Math.min(TOTAL, 20_000), `a real soak: ${stats.sent} requests`)
  t.equal(stats.timedOut, 0, 'no request hung (every one answered within 20 s)')
  t.equal(stats.answered, stats.sent, 'every request got an answer (a status, or an aborted connection)')
  t.equal(stats.wrong, 0, 'each answer is the one its backend behaviour calls for')
  t.ok(stats.cCasualties <= kills * 8 + 8, `only requests on killed processes failed (${stats.cCasualties} for ${kills} kills)`)
  t.ok(kills >= Math.floor(elapsed * 1000 / KILL_EVERY_MS) - 1, `processes were killed (${kills})`)
  const backends = app.fastcgi.backends()
  t.same(backends.map((b) => b.load), backends.map(() => 0), 'pool loads are 0')
  t.ok(backends.filter((b) => b.name === 'hello').every((b) => b.state === 'running'), 'every spawned process is running again')
  t.ok(Math.abs(endFd.fds - startFd.fds) <= 4, `open fds back near the start (${startFd.fds} -> ${endFd.fds})`)
  t.ok(Math.abs(endFd.sockets - startFd.sockets) <= 2, `sockets back near the start (${startFd.sockets} -> ${endFd.sockets})`)
  t.same(endListeners, startListeners, 'no listener leaked on the process or the server')
  t.ok(endHeap - startHeap < 16 * 1048576, `heap after GC steady (${((endHeap - startHeap) / 1048576).toFixed(1)} MiB growth)`)
  if (heapSamples.length >= 4) {
    const half = heapSamples.slice(Math.floor(heapSamples.length / 2))
    t.ok(Math.max(...half) - Math.min(...half) < 12 * 1048576, 'no upward trend in the second half')
  }
  t.same(unhandled, [], 'no unhandled rejection')
  t.same(uncaught, [], 'no uncaught exception')
  t.same(faultServer.errors.map(String), [], 'the fault server scripts ran cleanly')
})
