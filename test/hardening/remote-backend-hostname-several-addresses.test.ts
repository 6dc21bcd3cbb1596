// A backend named by a host name that resolves to several addresses, only some of which
// answer: the gateway tries the next address when one refuses (Node's happy-eyeballs connect),
// so every request succeeds whatever the order; a name whose addresses all refuse is a 503.
//
// `localhost` resolving to both ::1 and 127.0.0.1 is tried first (a backend on only one of
// them). Where localhost has one address (this is common in containers), the names come from
// a hosts file that only a gateway started inside a network namespace sees
// (/etc/netns/<name>/hosts, which `ip netns exec` mounts over /etc/hosts): /etc/hosts itself is
// never touched.
import t from 'tap'
import dns from 'node:dns/promises'
import { join } from 'node:path'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { spawnTracked } from '../helpers/proc'
import { request } from '../helpers/http'
import { createNetns, netnsUnavailable } from './netns'
import { listenWithPlugin, sleep } from './support'

const GATEWAY = join(__dirname, 'fixtures', 'netns-gateway.ts')

t.test('localhost with ::1 and 127.0.0.1', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const addresses = (await dns.lookup('localhost', { all: true })).map((a) => a.address)
  const both = addresses.includes('::1') && addresses.includes('127.0.0.1')
  const reason = both ? false : `localhost resolves to ${addresses.join(', ')} only here; the namespace test below covers several addresses`
  await t.test('a backend on only one of them serves every request', { skip: reason }, async (t) => {
    const binary = buildCApp('threaded')
    for (const only of ['127.0.0.1', '::1']) {
      const app = await startCApp(t, binary, { host: only, port: 0, threads: 4 })
      const port = app.address.kind === 'tcp' ? app.address.port : 0
      const { base } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/hello': [{ host: 'localhost', port, checkLocal: false, keepAlive: false }] } })
      const answers = await Promise.all(Array.from({ length: 8 }, () => request(`${base}/hello`, { timeoutMs: 10_000 })))
      t.same(answers.map((a) => a.status), Array(8).fill(200), `backend on ${only} only: every request served`)
    }
  })
})

const unavailable = netnsUnavailable()

t.test('a name with several addresses, from a namespace hosts file', { skip: unavailable !== false ? unavailable : !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const ns = createNetns(t)
  // the backend listens in the host namespace, on the host end of the veth only
  // threaded: the two names are two connection pools to one program, which a serial app would
  // serve one pool at a time (each kept connection pins it). keepAlive off: this app (lighttpd's
  // threaded example) reads a kept connection only when its thread gets the accept lock back,
  // which another thread holds while it waits in accept()
  const backendApp = await startCApp(t, buildCApp('threaded'), { host: ns.hostAddr, port: 0, threads: 4 })
  const port = backendApp.address.kind === 'tcp' ? backendApp.address.port : 0
  // inside the namespace nothing listens on ns.nsAddr or 127.0.0.2: those refuse
  ns.setHosts([
    '127.0.0.1 localhost',
    `${ns.nsAddr} live-second.ffcgi.test`,
    `${ns.hostAddr} live-second.ffcgi.test`,
    `${ns.hostAddr} live-first.ffcgi.test`,
    `${ns.nsAddr} live-first.ffcgi.test`,
    `${ns.nsAddr} dead.ffcgi.test`,
    '127.0.0.2 dead.ffcgi.test'
  ])
  const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps')
  const backend = (host: string): Array<Record<string, unknown>> => [{ host, port, checkLocal: false, connectTimeout: 2000, disableTime: 100, keepAlive: false }]
  const gateway = spawnTracked(t, ns.exec([process.execPath, ...loader, GATEWAY]), {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      FFCGI_GATEWAY: JSON.stringify({
        listenHost: ns.nsAddr,
        server: { '/second/': backend('live-second.ffcgi.test'), '/first/': backend('live-first.ffcgi.test'), '/dead/': backend('dead.ffcgi.test') }
      })
    }
  })
  let gwPort = 0
  for (let i = 0; i < 300 && gwPort === 0 && !gateway.hasExited(); i++) {
    const m = /\{"port":(\d+)\}/.exec(gateway.output())
    if (m !== null) gwPort = Number(m[1])
    else await sleep(100)
  }
  t.ok(gwPort > 0, 'the gateway in the namespace is listening')
  if (gwPort === 0) { t.comment(gateway.output()); return }
  const base = `http://${ns.nsAddr}:${gwPort}`

  const resolved = await request(`${base}/_backends`, { timeoutMs: 10_000 })
  t.equal(resolved.status, 200)
  t.match(resolved.body.toString(), 'tcp:live-second.ffcgi.test', 'the backend keeps its name: it is resolved at connect time')

  for (const prefix of ['second', 'first']) {
    const answers: number[] = []
    for (let i = 0; i < 10; i++) answers.push((await request(`${base}/${prefix}/x`, { timeoutMs: 10_000 })).status)
    t.same(answers, Array(10).fill(200), `live address ${prefix}: 10 of 10 served`)
  }
  const dead = await request(`${base}/dead/x`, { timeoutMs: 10_000 })
  t.equal(dead.status, 503, 'every address refuses: 503')
  const parallel = await Promise.all(Array.from({ length: 16 }, (_v, i) => request(`${base}/${i % 2 === 0 ? 'first' : 'second'}/p`, { timeoutMs: 10_000 })))
  t.same(parallel.map((r) => r.status), Array(16).fill(200), '16 at once over both names')
})
