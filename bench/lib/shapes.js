'use strict'
// The scenarios of issue 14, beside the GET scenarios of bench.js: request bodies (POST 4 KiB
// and 1 MiB to php-fpm, read by PHP), overload (256 connections on 2 php-fpm children running a
// 5 ms script), slow clients (200 readers of 1 MiB at 256 KiB/s while wrk measures C hello) and
// many processes (2 gateway processes in front of one php-fpm pool). Each scenario says which
// gateways it runs (the peers the issue names, ours as written and tuned, the Node floor and
// bare Fastify for the RSS reference); bench.js measures them as it measures the others.
const fs = require('node:fs')
const path = require('node:path')

const SHAPE_GATEWAYS = ['fastify-fastcgi-as-written', 'fastify-fastcgi', 'lighttpd', 'nginx', 'h2o', 'node-floor', 'node-floor-heap', 'bare-fastify']
const SLOW = { clients: 200, url: '/hello?bytes=1048576', bytes: 1048576, rate: 256 * 1024 }

const SHAPE_SCENARIOS = [
  { id: 'post-4k-unix', shape: 'body', title: 'php-fpm POST 4 KiB, body read by PHP, unix socket', backend: 'php', transport: 'unix', url: '/body.php', bodyBytes: 4096, gateways: SHAPE_GATEWAYS },
  { id: 'post-1m-unix', shape: 'body', title: 'php-fpm POST 1 MiB, body read by PHP, unix socket', backend: 'php', transport: 'unix', url: '/body.php', bodyBytes: 1048576, gateways: SHAPE_GATEWAYS },
  { id: 'overload-unix', shape: 'overload', title: 'Overload: 256 connections, php-fpm 2 children, 5 ms script, unix socket', backend: 'php', transport: 'unix', url: '/sleep.php', connections: 256, gateways: SHAPE_GATEWAYS },
  { id: 'slow-clients-unix', shape: 'slow', title: 'C hello beside 200 slow readers of 1 MiB (256 KiB/s), unix socket', backend: 'c', transport: 'unix', url: '/hello', slow: SLOW, gateways: SHAPE_GATEWAYS },
  { id: 'cluster-php-unix', shape: 'cluster', title: 'php-fpm hello, 2 gateway processes (nginx 2 workers, h2o 2 threads), unix socket', backend: 'php', transport: 'unix', url: '/hello.php', workers: 2, wrkTimeout: 2, gateways: [...SHAPE_GATEWAYS, 'node-floor-fresh', 'fastify-fastcgi-single'] }
]
// one quick variant of each new kind for `npm run bench:short`
const SHORT_SHAPE_SCENARIOS = ['post-4k-unix', 'overload-unix', 'slow-clients-unix', 'cluster-php-unix']

/** The gateways a scenario runs: its own list (plus any --gateways variant), or all but the cluster-only ones. */
function gatewaysFor (scenario, gateways, explicit) {
  const fits = (g) => !g.clusterOnly || (scenario.workers ?? 1) > 1
  if (explicit || scenario.gateways === undefined) return gateways.filter(fits)
  return gateways.filter((g) => fits(g) && (scenario.gateways.includes(g.id) || g.variant))
}

/** wrk needs a Lua script to send a body: written into the bench's temp dir on first use. */
function wrkScriptFor (scenario, tmp) {
  if (scenario.bodyBytes === undefined) return undefined
  const file = path.join(tmp, `post-${scenario.bodyBytes}.lua`)
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, [
      'wrk.method = "POST"',
      'wrk.headers["Content-Type"] = "application/octet-stream"',
      `wrk.body = string.rep("x", ${scenario.bodyBytes})`,
      ''
    ].join('\n'))
  }
  return file
}

/** Starts the slow readers (lib/slow-clients.js, a tracked process); read() gives what they saw once stopped. */
function startSlowClients ({ spawnTracked, port, dir, scenario, seconds, logFile }) {
  const out = path.join(dir, 'slow-clients.json')
  const entry = spawnTracked([process.execPath, path.join(__dirname, 'slow-clients.js')], {
    env: { PATH: process.env.PATH, PORT: String(port), URL: scenario.slow.url, EXPECT_BYTES: String(scenario.slow.bytes), CLIENTS: String(scenario.slow.clients), RATE: String(scenario.slow.rate), SECONDS: String(Math.ceil(seconds)), OUT: out },
    logFile
  })
  const read = () => {
    try { return JSON.parse(fs.readFileSync(out, 'utf8')) } catch { return { error: 'no report from the slow clients' } }
  }
  return { entry, read }
}

// ---------------------------------------------------------------------------- report
function shapeReport ({ scenarios, gateways, byScenario, fmt }) {
  const { fmtInt, fmtMs, fmtMiB, fmtRatio } = fmt
  const L = []
  const here = (s) => gateways.filter((g) => byScenario.get(s.id).get(g.id).runs > 0)
  const rpsOf = (m, id) => m.get(id)?.rps
  const bestServer = (m) => ['lighttpd', 'nginx', 'h2o'].map((id) => [id, m.get(id)]).filter(([, x]) => x !== undefined && x.rps !== undefined).sort((a, b) => b[1].rps - a[1].rps)[0]
  const delta = (a, b) => a === undefined || b === undefined ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)} MiB`
  const label = (id) => gateways.find((g) => g.id === id)?.label ?? id
  const of = (shape) => scenarios.filter((s) => s.shape === shape)

  if (of('body').length > 0) {
    L.push('', '## Request bodies (issue 14)', '')
    L.push('Target: ours as users write it at or above the best of lighttpd, nginx and h2o in req/s; CPU per request within 1.15x of the Node floor, which reads the whole body before it takes a backend connection, as they do (beside it, not judged: against the same floor holding the heap ours holds).', '')
    L.push('| scenario | as written req/s | tuned req/s | best server | as written / best | as written CPU / floor CPU | as written CPU / floor, same heap | as written RSS - bare Fastify | errors (as written) | met |')
    L.push('|---|---:|---:|---|---:|---:|---:|---:|---:|---|')
    for (const s of of('body')) {
      const m = byScenario.get(s.id)
      const w = m.get('fastify-fastcgi-as-written')
      const best = bestServer(m)
      const rBest = w?.rps !== undefined && best ? w.rps / best[1].rps : undefined
      const cpuAgainst = (id) => { const c = m.get(id)?.cpu; return w?.cpu !== undefined && c !== undefined ? w.cpu / c : undefined }
      const rCpu = cpuAgainst('node-floor')
      const rCpuHeap = cpuAgainst('node-floor-heap')
      const met = []
      if (rBest !== undefined) met.push(rBest >= 1 ? 'req/s yes' : 'req/s no')
      if (rCpu !== undefined) met.push(rCpu <= 1.15 ? 'CPU yes' : 'CPU no')
      L.push(`| ${s.title} | ${fmtInt(w?.rps)} | ${fmtInt(rpsOf(m, 'fastify-fastcgi'))} | ${best ? `${label(best[0])} ${fmtInt(best[1].rps)}` : '-'} | ${fmtRatio(rBest)} | ${fmtRatio(rCpu)} | ${fmtRatio(rCpuHeap)} | ${delta(w?.rss, m.get('bare-fastify')?.rss)} | ${w?.ok > 0 ? w.wrkErrors : '-'} | ${met.join(', ')} |`)
    }
  }

  for (const s of of('overload')) {
    const m = byScenario.get(s.id)
    L.push('', `## Overload (issue 14): ${s.title}`, '')
    L.push('Goodput: 2xx/3xx responses a second; errors: non-2xx/3xx responses and wrk socket errors (timeout 10 s), summed over rounds. Target: ours as written has the lowest p99 of every gateway at the same or higher goodput, and no failed request.', '')
    L.push('| gateway | goodput req/s | p50 | p99 | errors | peak RSS | RSS - bare Fastify |')
    L.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const g of here(s)) {
      const x = m.get(g.id)
      L.push(`| ${g.label} | ${fmtInt(x.goodput)} | ${fmtMs(x.p50)} | ${fmtMs(x.p99)} | ${x.ok > 0 ? x.wrkErrors : '-'} | ${fmtMiB(x.rss)} | ${g.id === 'bare-fastify' ? '' : delta(x.rss, m.get('bare-fastify')?.rss)} |`)
    }
    const w = m.get('fastify-fastcgi-as-written')
    const others = here(s).filter((g) => !g.ours && !g.ceiling).map((g) => m.get(g.id)).filter((x) => x.p99 !== undefined)
    if (w?.p99 !== undefined && others.length > 0) {
      const lowestP99 = others.every((x) => w.p99 <= x.p99)
      const goodput = others.every((x) => x.goodput === undefined || (w.goodput ?? 0) >= x.goodput)
      L.push('', `Ours as written: lowest p99 ${lowestP99 ? 'yes' : 'no'}, goodput at or above every other gateway's ${goodput ? 'yes' : 'no'}, no failed request ${w.wrkErrors === 0 ? 'yes' : 'no'}.`)
    }
  }

  for (const s of of('slow')) {
    const m = byScenario.get(s.id)
    L.push('', `## Slow clients (issue 14): ${s.title}`, '')
    L.push(`wrk measures \`GET ${s.url}\` alone, then again while ${s.slow.clients} clients read \`${s.slow.url}\` at ${s.slow.rate / 1024} KiB/s each (\`bench/lib/slow-clients.js\`, one response per connection). Peak RSS over both. Target: hello's req/s and p99 beside the slow readers within 10% of the run without them, RSS bounded.`, '')
    L.push('| gateway | req/s alone | req/s with slow | with / alone | p99 alone | p99 with slow | peak RSS | RSS - bare Fastify | slow responses completed | slow early ends + errors | met |')
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    for (const g of here(s)) {
      const x = m.get(g.id)
      const r = x.rps !== undefined && x.aloneRps !== undefined ? x.rps / x.aloneRps : undefined
      const met = []
      if (r !== undefined) met.push(r >= 0.9 ? 'req/s yes' : 'req/s no')
      if (x.p99 !== undefined && x.aloneP99 !== undefined) met.push(x.p99 <= 1.1 * x.aloneP99 ? 'p99 yes' : 'p99 no')
      L.push(`| ${g.label} | ${fmtInt(x.aloneRps)} | ${fmtInt(x.rps)} | ${fmtRatio(r)} | ${fmtMs(x.aloneP99)} | ${fmtMs(x.p99)} | ${fmtMiB(x.rss)} | ${g.id === 'bare-fastify' ? '' : delta(x.rss, m.get('bare-fastify')?.rss)} | ${fmtInt(x.slowCompleted)} | ${x.ok > 0 ? x.slowEndedEarly : '-'} | ${g.ours ? met.join(', ') : ''} |`)
    }
  }

  for (const s of of('cluster')) {
    const m = byScenario.get(s.id)
    L.push('', `## Many processes (issue 14): ${s.title}`, '')
    L.push(`Node gateways run as ${s.workers} node:cluster workers behind one listening socket (bench/gateways/cluster.js); nginx with ${s.workers} workers, h2o with ${s.workers} threads, lighttpd in one process (as it is meant to run); all in front of the one php-fpm pool (2 children). Target: ours as written (${s.workers} processes) at or above nginx's req/s and at least the single process's, and no request waiting for another process's kept connection. wrk's timeout is ${s.wrkTimeout ?? 10} s here, so a request that waits that long counts as an error (a request still waiting when a 5 s run ends is not counted at all): a gateway that keeps its backend connections open pins the pool's workers, and the other process's requests then wait for as long as they stay open. The Node floor keeps its connections for good; \`Node floor, a connection per request\` (KEEP_CONN=0) is the fair floor.`, '')
    L.push('| gateway | req/s | p99 | errors | peak RSS | RSS - bare Fastify | CPU per request |')
    L.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const g of here(s)) {
      const x = m.get(g.id)
      L.push(`| ${g.label} | ${fmtInt(x.rps)} | ${fmtMs(x.p99)} | ${x.ok > 0 ? x.wrkErrors : '-'} | ${fmtMiB(x.rss)} | ${g.id === 'bare-fastify' ? '' : delta(x.rss, m.get('bare-fastify')?.rss)} | ${x.cpu === undefined ? '-' : `${x.cpu.toFixed(1)} µs`} |`)
    }
    const w = rpsOf(m, 'fastify-fastcgi-as-written')
    const nginx = rpsOf(m, 'nginx')
    const single = rpsOf(m, 'fastify-fastcgi-single')
    if (w !== undefined) {
      L.push('', `Ours as written, ${s.workers} processes: ${fmtRatio(nginx === undefined ? undefined : w / nginx)} of nginx's req/s (target 1.00x or more), ${fmtRatio(single === undefined ? undefined : w / single)} of the single process's (target 1.00x or more).`)
    }
  }
  return L
}

module.exports = { SHAPE_SCENARIOS, SHORT_SHAPE_SCENARIOS, gatewaysFor, wrkScriptFor, startSlowClients, shapeReport }
