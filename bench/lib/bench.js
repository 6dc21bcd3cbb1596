'use strict'
// The benchmark driver (bench/run.sh prepares the machine, then runs this).
//
// For each scenario (a backend, a transport, a URL) and each round, every gateway in turn
// (forward order in even rounds, reversed in odd ones): start it fresh, check its response
// body byte for byte, warm it up, then `wrk -t1 -c50` while sampling the summed VmRSS of all
// its processes; stop it by pid. Backends are started once and shared by every gateway.
// Results: medians over rounds, written as Markdown (and JSON) to bench/results/.
// The scenarios of issue 14 (lib/shapes.js) change only what a run sends or runs beside wrk: a
// POST body (a wrk Lua script), 256 connections, slow readers (a second wrk run beside them),
// or 2 processes per gateway; each names the gateways it runs.
//
//   node bench/lib/bench.js [--short | --profile | --gc-trace] [--rounds N] [--duration S] [--warmup S]
//        [--connections N] [--quiet-wait S] [--scenarios a,b] [--gateways a,b] [--out FILE]
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const http = require('node:http')
const path = require('node:path')
const { spawn, spawnSync, execFileSync } = require('node:child_process')
const { expectedBody } = require('./bodies')
const { SHAPE_SCENARIOS, SHORT_SHAPE_SCENARIOS, wrkScriptFor, gatewaysFor, startSlowClients, shapeReport } = require('./shapes')

const BENCH = path.resolve(__dirname, '..')
const ROOT = path.resolve(BENCH, '..')
const TMP = process.env.BENCH_TMP ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ffcgi-bench-'))
const PIDS = process.env.BENCH_PIDS ?? path.join(TMP, 'pids')
const HELLO_BIN = process.env.HELLO_BIN ?? path.join(BENCH, '.build', 'hello')
const DOCROOT = path.join(BENCH, 'www')
const HOST = '127.0.0.1'

// ---------------------------------------------------------------------------- arguments
function parseArgs (argv) {
  const o = { mode: 'full', rounds: undefined, duration: undefined, warmup: undefined, connections: 50, quietThreshold: 0.15, quietWait: 15, scenarios: undefined, gateways: undefined, out: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${a} needs a value`); return v }
    if (a === '--short') o.mode = 'short'
    else if (a === '--full') o.mode = 'full'
    else if (a === '--profile') o.mode = 'profile'
    else if (a === '--gc-trace') o.mode = 'gc-trace'
    else if (a === '--rounds') o.rounds = Number(next())
    else if (a === '--duration') o.duration = Number(next())
    else if (a === '--warmup') o.warmup = Number(next())
    else if (a === '--connections') o.connections = Number(next())
    else if (a === '--quiet-threshold') o.quietThreshold = Number(next())
    else if (a === '--quiet-wait') o.quietWait = Number(next())
    else if (a === '--scenarios') o.scenarios = next().split(',')
    else if (a === '--gateways') o.gateways = next().split(',')
    else if (a === '--out') o.out = next()
    else if (a === '--report') o.report = next()
    else if (a === '--help' || a === '-h') { console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 14).join('\n')); process.exit(0) }
    else throw new Error(`unknown argument ${a}`)
  }
  const defaults = { full: [3, 5, 1], short: [1, 5, 1], profile: [1, 10, 1], 'gc-trace': [1, 8, 2] }[o.mode]
  o.rounds ??= defaults[0]
  o.duration ??= defaults[1]
  o.warmup ??= defaults[2]
  return o
}

// ---------------------------------------------------------------------------- small helpers
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function findBinary (name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (dir === '') continue
    const candidate = path.join(dir, name)
    try { fs.accessSync(candidate, fs.constants.X_OK); return candidate } catch {}
  }
  return undefined
}

function phpFpmBinary () {
  const plain = findBinary('php-fpm')
  if (plain !== undefined) return plain
  for (const dir of ['/usr/sbin', '/usr/local/sbin']) {
    let names = []
    try { names = fs.readdirSync(dir) } catch { continue }
    const v = names.filter((n) => /^php-fpm\d+(\.\d+)?$/.test(n)).sort().reverse()[0]
    if (v !== undefined) return path.join(dir, v)
  }
  return undefined
}

function versionOf (argv, pattern) {
  // some print their version on stderr (nginx -v), some on stdout
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 })
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`
  const m = pattern.exec(text)
  return m === null ? (text.split('\n')[0].trim() || '?') : m[1]
}

function median (values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

function log (...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`)
}

// ---------------------------------------------------------------------------- processes
const started = new Set()

function spawnTracked (argv, { env, stdin = 'ignore', logFile, cwd } = {}) {
  const out = logFile === undefined ? 'ignore' : fs.openSync(logFile, 'a')
  const child = spawn(argv[0], argv.slice(1), { env: env ?? { PATH: process.env.PATH }, stdio: [stdin, out, out], cwd: cwd ?? BENCH })
  if (typeof out === 'number') fs.closeSync(out)
  if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`)
  fs.appendFileSync(PIDS, `${child.pid}\n`)
  const entry = { child, pid: child.pid, exited: false, code: null }
  entry.exit = new Promise((resolve) => child.once('exit', (code, signal) => { entry.exited = true; entry.code = code ?? signal; resolve() }))
  child.once('error', () => {})
  started.add(entry)
  return entry
}

async function stopTracked (entry, signal = 'SIGTERM', graceMs = 5000) {
  if (entry.exited) { started.delete(entry); return }
  try { process.kill(entry.pid, signal) } catch {}
  const timer = setTimeout(() => { try { process.kill(entry.pid, 'SIGKILL') } catch {} }, graceMs)
  await entry.exit
  clearTimeout(timer)
  started.delete(entry)
}

async function stopAll () {
  await Promise.all([...started].map((e) => stopTracked(e, 'SIGTERM', 3000)))
}

function connectOnce (address) {
  return new Promise((resolve) => {
    const socket = address.kind === 'unix' ? net.connect({ path: address.path }) : net.connect({ host: address.host, port: address.port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

async function waitForAddress (address, entries, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const e of entries) if (e.exited) throw new Error(`${what} exited (${e.code}) before it listened`)
    if (await connectOnce(address)) return
    await sleep(50)
  }
  throw new Error(`${what} did not listen within ${timeoutMs} ms`)
}

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: HOST, port: 0 }, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** The process and all its descendants, from /proc. */
function processTree (rootPid) {
  const children = new Map()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat
    try { stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8') } catch { continue }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!children.has(ppid)) children.set(ppid, [])
    children.get(ppid).push(Number(name))
  }
  const tree = [rootPid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []))
  return tree
}

function rssKiB (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch { return 0 }
}

/** utime + stime of a process, in clock ticks (USER_HZ, 100 a second on Linux). */
/** user + system clock ticks of a process (all its threads), or with `tid` of that one thread */
function cpuTicks (pid, tid) {
  try {
    const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch { return 0 }
}

const TICK_MS = 10

class RssSampler {
  constructor (rootPid, intervalMs = 200) {
    this.rootPid = rootPid
    this.pids = processTree(rootPid)
    this.peakKiB = 0
    this.samples = 0
    this.cpuStart = new Map(this.pids.map((pid) => [pid, cpuTicks(pid)]))
    this.mainStart = cpuTicks(rootPid, rootPid)
    this.timer = setInterval(() => this.sample(), intervalMs)
    this.sample()
  }

  /** CPU time the gateway's processes used since the start, in ms (for CPU per request). */
  cpuMs () {
    let ticks = 0
    for (const pid of processTree(this.rootPid)) ticks += cpuTicks(pid) - (this.cpuStart.get(pid) ?? 0)
    return ticks * TICK_MS
  }

  /** CPU time of the root process's main thread since the start, in ms (the rest is V8's helper threads and libuv's) */
  mainThreadCpuMs () {
    return (cpuTicks(this.rootPid, this.rootPid) - this.mainStart) * TICK_MS
  }

  sample () {
    if (++this.samples % 10 === 0) this.pids = processTree(this.rootPid)
    let total = 0
    for (const pid of this.pids) total += rssKiB(pid)
    if (total > this.peakKiB) this.peakKiB = total
  }

  stop () {
    clearInterval(this.timer)
    this.sample()
    return this.peakKiB
  }
}

// ---------------------------------------------------------------------------- backends
async function startCBackend (address, tag) {
  // two libfcgi processes accepting on one listening socket (fd 0), as spawn-fcgi -F 2 would,
  // but as our own children so that they are stopped (and reaped) by pid
  const server = net.createServer()
  const tmpPath = address.kind === 'unix' ? `${address.path}.${process.pid}.tmp` : undefined
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    if (tmpPath !== undefined) server.listen({ path: tmpPath, backlog: 1024 }, resolve)
    else server.listen({ host: address.host, port: address.port, backlog: 1024, exclusive: true }, resolve)
  })
  // libuv unlinks a unix socket's path when it closes: the children keep the renamed one
  if (tmpPath !== undefined) { fs.renameSync(tmpPath, address.path); fs.chmodSync(address.path, 0o666) }
  const fd = server._handle.fd
  const entries = []
  try {
    for (let i = 0; i < 2; i++) entries.push(spawnTracked([HELLO_BIN], { stdin: fd, logFile: path.join(TMP, `backend-${tag}.log`) }))
  } finally {
    server.close()
  }
  await waitForAddress(address, entries, `C hello (${tag})`)
  return { entries, address }
}

async function startPhpFpm (address, tag) {
  const bin = phpFpmBinary()
  if (bin === undefined) throw new Error('php-fpm is not installed')
  const dir = path.join(TMP, `fpm-${tag}`)
  fs.mkdirSync(dir, { recursive: true })
  const conf = path.join(dir, 'php-fpm.conf')
  const listen = address.kind === 'unix' ? address.path : `${address.host}:${address.port}`
  const lines = [
    '[global]', `pid = ${path.join(dir, 'php-fpm.pid')}`, `error_log = ${path.join(dir, 'php-fpm.log')}`, 'daemonize = no', 'log_level = warning', '',
    '[www]', `listen = ${listen}`, 'listen.mode = 0666', 'listen.backlog = 1024',
    'pm = static', 'pm.max_children = 2', 'pm.max_requests = 0', 'clear_env = yes'
  ]
  if (address.kind === 'tcp') lines.push('listen.allowed_clients = 127.0.0.1')
  fs.writeFileSync(conf, lines.join('\n') + '\n')
  const argv = [bin, '-F', '-n', '-y', conf]
  if (process.getuid() === 0) argv.push('-R')
  const entry = spawnTracked(argv, { logFile: path.join(TMP, `backend-${tag}.log`) })
  await waitForAddress(address, [entry], `php-fpm (${tag})`)
  return { entries: [entry], address }
}

// ---------------------------------------------------------------------------- scenarios
const SCENARIOS = [
  { id: 'c-hello-unix', title: 'C hello, unix socket', backend: 'c', transport: 'unix', url: '/hello' },
  { id: 'c-hello-tcp', title: 'C hello, TCP', backend: 'c', transport: 'tcp', url: '/hello' },
  { id: 'php-hello-unix', title: 'php-fpm hello, unix socket', backend: 'php', transport: 'unix', url: '/hello.php' },
  { id: 'php-hello-tcp', title: 'php-fpm hello, TCP', backend: 'php', transport: 'tcp', url: '/hello.php' },
  { id: 'c-64k-unix', title: 'C 64 KiB body, unix socket', backend: 'c', transport: 'unix', url: '/hello?bytes=65536' },
  { id: 'c-64k-tcp', title: 'C 64 KiB body, TCP', backend: 'c', transport: 'tcp', url: '/hello?bytes=65536' },
  { id: 'c-1m-unix', title: 'C 1 MiB body, unix socket', backend: 'c', transport: 'unix', url: '/hello?bytes=1048576' },
  { id: 'c-1m-tcp', title: 'C 1 MiB body, TCP', backend: 'c', transport: 'tcp', url: '/hello?bytes=1048576' },
  // the scenarios of issue 14 (lib/shapes.js): request bodies, overload, slow clients, many processes
  ...SHAPE_SCENARIOS
]
const SHORT_SCENARIOS = ['c-hello-unix', 'php-hello-unix', 'c-1m-unix', ...SHORT_SHAPE_SCENARIOS]

// ---------------------------------------------------------------------------- gateways
// start(ctx) -> tracked process; ctx: { port, scenario, backend (address), dir, logFile }
function backendArg (a) { return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host}:${a.port}` }

// In a scenario with `workers` > 1 a Node gateway runs as that many node:cluster workers behind
// one listening socket (gateways/cluster.js), unless it is the single-process reference.
function nodeGateway (script, extraEnv = {}, nodeArgs = [], { single = false } = {}) {
  const start = (ctx) => {
    const workers = single ? 1 : (ctx.scenario.workers ?? 1)
    const entry = workers > 1 ? path.join(BENCH, 'gateways', 'cluster.js') : path.join(BENCH, 'gateways', script)
    return spawnTracked([process.execPath, ...nodeArgs, entry], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(ctx.port), BACKEND: backendArg(ctx.backend), KIND: ctx.scenario.backend, DOCROOT: DOCROOT, ...(workers > 1 ? { GATEWAY: script, WORKERS: String(workers) } : {}), ...extraEnv },
      logFile: ctx.logFile
    })
  }
  // the same gateway with more node flags (--profile adds --cpu-prof)
  start.withNodeArgs = (more) => nodeGateway(script, extraEnv, [...nodeArgs, ...more], { single })
  return start
}

function lighttpdConf (ctx) {
  const a = ctx.backend
  const host = a.kind === 'unix' ? `"socket" => "${a.path}"` : `"host" => "${a.host}", "port" => ${a.port}`
  const server = ctx.scenario.backend === 'php'
    ? `( ".php" => (( ${host} )) )`
    : `( "/" => (( ${host}, "check-local" => "disable" )) )`
  return [
    `server.document-root = "${DOCROOT}"`,
    `server.bind = "${HOST}"`,
    `server.port = ${ctx.port}`,
    `server.errorlog = "${path.join(ctx.dir, 'lighttpd-error.log')}"`,
    'server.modules = ( "mod_fastcgi" )',
    // wrk keeps its 50 connections: do not close them every 1000 requests (lighttpd's default)
    'server.max-keep-alive-requests = 65535',
    `fastcgi.server = ${server}`
  ].join('\n') + '\n'
}

function nginxConf (ctx, keepConn) {
  const a = ctx.backend
  const upstream = a.kind === 'unix' ? `unix:${a.path}` : `${a.host}:${a.port}`
  const d = ctx.dir
  const location = ctx.scenario.backend === 'php' ? 'location ~ \\.php$' : 'location /'
  return `
worker_processes ${ctx.scenario.workers ?? 1};
daemon off;
master_process on;
pid ${d}/nginx.pid;
error_log ${d}/nginx-error.log warn;
${process.getuid() === 0 ? 'user root;' : ''}
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_max_body_size 16m;
  client_body_temp_path ${d}/client_body;
  fastcgi_temp_path ${d}/fastcgi;
  proxy_temp_path ${d}/proxy;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  upstream backend {
    server ${upstream};
    ${keepConn ? 'keepalive 8;' : ''}
  }
  server {
    listen ${HOST}:${ctx.port};
    root ${DOCROOT};
    ${location} {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass backend;
      ${keepConn ? 'fastcgi_keep_conn on;' : ''}
    }
  }
}
`
}

function h2oConf (ctx) {
  const a = ctx.backend
  const connect = a.kind === 'unix'
    ? `        fastcgi.connect:\n          port: ${a.path}\n          type: unix`
    : `        fastcgi.connect:\n          host: ${a.host}\n          port: ${a.port}\n          type: tcp`
  const handler = ctx.scenario.backend === 'php'
    ? `        file.dir: ${DOCROOT}\n        file.custom-handler:\n          extension: .php\n${connect.replace(/^ {8}/gm, '          ')}`
    : connect
  return `num-threads: ${ctx.scenario.workers ?? 1}
${process.getuid() === 0 ? 'user: root\n' : ''}pid-file: ${ctx.dir}/h2o.pid
error-log: ${ctx.dir}/h2o-error.log
listen:
  host: ${HOST}
  port: ${ctx.port}
hosts:
  default:
    paths:
      /:
${handler}
`
}

function caddyfile (ctx) {
  const a = ctx.backend
  const upstream = a.kind === 'unix' ? `unix/${a.path}` : `${a.host}:${a.port}`
  const site = ctx.scenario.backend === 'php'
    ? `  root * ${DOCROOT}\n  php_fastcgi ${upstream}`
    : `  reverse_proxy ${upstream} {\n    transport fastcgi\n  }`
  return `{
  admin off
  auto_https off
}
http://${HOST}:${ctx.port} {
${site}
}
`
}

function fileGateway (name, render, argv, envFor) {
  return (ctx) => {
    const conf = path.join(ctx.dir, name)
    fs.writeFileSync(conf, render(ctx))
    return spawnTracked(argv(conf), { env: { PATH: process.env.PATH, ...(envFor ? envFor(ctx) : {}) }, logFile: ctx.logFile })
  }
}

const GATEWAYS = [
  // as users write it: `{ socket }` / `{ host, port }`, nothing else (the target of issue 14)
  { id: 'fastify-fastcgi-as-written', label: 'fastify-fastcgi as written', ours: true, asWritten: true, needs: [], start: nodeGateway('fastify-fastcgi.js') },
  // tuned: maxConcurrency 2 (the backend's real concurrency) and keepAlive, the reference
  { id: 'fastify-fastcgi', label: 'fastify-fastcgi tuned', ours: true, tuned: true, needs: [], start: nodeGateway('fastify-fastcgi.js', { MAX_CONCURRENCY: '2', KEEP_ALIVE: '1' }) },
  { id: 'lighttpd', label: 'lighttpd', server: true, needs: ['lighttpd'], start: fileGateway('lighttpd.conf', lighttpdConf, (c) => [findBinary('lighttpd'), '-D', '-f', c]) },
  { id: 'nginx', label: 'nginx', server: true, needs: ['nginx'], start: fileGateway('nginx.conf', (ctx) => nginxConf(ctx, false), (c) => [findBinary('nginx'), '-c', c, '-e', path.join(path.dirname(c), 'nginx-error.log')]) },
  { id: 'nginx-keepconn', label: 'nginx keep_conn', server: true, needs: ['nginx'], start: fileGateway('nginx.conf', (ctx) => nginxConf(ctx, true), (c) => [findBinary('nginx'), '-c', c, '-e', path.join(path.dirname(c), 'nginx-error.log')]) },
  { id: 'h2o', label: 'h2o', server: true, needs: ['h2o'], start: fileGateway('h2o.conf', h2oConf, (c) => [findBinary('h2o'), '-c', c]) },
  { id: 'caddy', label: 'Caddy', server: true, needs: ['caddy'], start: fileGateway('Caddyfile', caddyfile, (c) => [findBinary('caddy'), 'run', '--config', c, '--adapter', 'caddyfile'], (ctx) => ({ HOME: ctx.dir, XDG_DATA_HOME: ctx.dir, XDG_CONFIG_HOME: ctx.dir, GOMAXPROCS: '1' })) },
  { id: 'fastcgi-client', label: 'fastcgi-client (npm)', nodeClient: true, needs: ['npm:fastcgi-client'], start: nodeGateway('fastcgi-client.js') },
  { id: 'php-fpm-npm', label: 'php-fpm (npm)', nodeClient: true, needs: ['npm:php-fpm'], start: nodeGateway('php-fpm-npm.js') },
  { id: 'bare-fastify', label: 'bare Fastify', ceiling: true, needs: [], start: nodeGateway('bare-fastify.js') },
  // the least a Node FastCGI gateway can do (node:http + net, no Fastify, no checks): what Node itself costs
  // (a request body is read whole before it takes a backend connection, as nginx, lighttpd and h2o do)
  { id: 'node-floor', label: 'Node floor', reference: true, needs: [], start: nodeGateway('node-floor.js', { MAX_CONCURRENCY: '2', BUFFER_REQUEST_BODY: '1' }) },
  // the same floor holding the heap ours holds (Fastify and the plugin loaded, unused): V8 starts
  // no incremental marking under 8 MB of old generation, which the bare floor never reaches
  // the many-processes scenario only: the floor with a connection per request, the fair reference there
  { id: 'node-floor-fresh', label: 'Node floor, a connection per request', reference: true, clusterOnly: true, needs: [], start: nodeGateway('node-floor.js', { MAX_CONCURRENCY: '2', BUFFER_REQUEST_BODY: '1', KEEP_CONN: '0' }) },
  { id: 'node-floor-heap', label: 'Node floor, same heap', reference: true, needs: [], start: nodeGateway('node-floor.js', { MAX_CONCURRENCY: '2', BUFFER_REQUEST_BODY: '1', SAME_HEAP: '1' }) },
  // the many-processes scenario only: ours as written in one process, beside the cluster of 2
  { id: 'fastify-fastcgi-single', label: 'fastify-fastcgi as written, 1 process', ours: true, asWritten: true, clusterOnly: true, needs: [], start: nodeGateway('fastify-fastcgi.js', {}, [], { single: true }) },
  // opt-in (--gateways): our defaults, without the concurrency cap (a connection per request beyond idle ones)
  { id: 'fastify-fastcgi-nocap', label: 'fastify-fastcgi (no cap)', ours: true, optIn: true, needs: [], start: nodeGateway('fastify-fastcgi.js', { MAX_CONCURRENCY: '0', KEEP_ALIVE: '1' }) }
]

/**
 * Variants of our gateway for side-by-side comparisons: `fastify-fastcgi:cap=0:ka=0:dist=/other/dist`
 * (cap = maxConcurrency, 0 = none; ka = keepAlive; cap=- or ka=- leaves the option unwritten;
 * buf = requestBuffering 1/0 (unwritten unless given); spool = responseSpoolLimit in bytes (0: off);
 * dist = another build of the plugin, for A/B;
 * node = node flags joined with +, e.g. node=--max-semi-space-size=4).
 */
function variantGateway (id) {
  const [base, ...settings] = id.split(':')
  if (base !== 'fastify-fastcgi' || settings.length === 0) return undefined
  const env = { MAX_CONCURRENCY: '2', KEEP_ALIVE: '1' }
  const nodeArgs = []
  for (const setting of settings) {
    const eq = setting.indexOf('=')
    const key = setting.slice(0, eq)
    const value = setting.slice(eq + 1)
    if (key === 'cap') env.MAX_CONCURRENCY = value === '-' ? '' : value
    else if (key === 'ka') env.KEEP_ALIVE = value === '-' ? '' : value
    else if (key === 'buf') env.REQUEST_BUFFERING = value
    else if (key === 'spool') env.RESPONSE_SPOOL_LIMIT = value
    else if (key === 'dist') env.FASTCGI_DIST = path.resolve(value)
    else if (key === 'node') nodeArgs.push(...value.split('+'))
    else throw new Error(`unknown setting ${key} in ${id}`)
  }
  const asWritten = env.MAX_CONCURRENCY === '' && env.KEEP_ALIVE === '' && env.REQUEST_BUFFERING === undefined && env.RESPONSE_SPOOL_LIMIT === undefined
  return { id, label: `fastify-fastcgi [${settings.join(' ')}]`, ours: true, variant: true, asWritten, tuned: !asWritten, needs: [], start: nodeGateway('fastify-fastcgi.js', env, nodeArgs) }
}

function missingFor (gateway) {
  const missing = []
  for (const need of gateway.needs) {
    if (need.startsWith('npm:')) {
      try { require.resolve(need.slice(4), { paths: [BENCH] }) } catch { missing.push(need) }
    } else if (findBinary(need) === undefined) missing.push(need)
  }
  return missing
}

// ---------------------------------------------------------------------------- one measurement
function httpRequest (port, url, body, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }
    const req = http.request({ host: HOST, port, path: url, method: body === undefined ? 'GET' : 'POST', headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

async function verify (port, scenario) {
  const url = scenario.url
  // a POST scenario sends what wrk's script sends: bodyBytes of 'x'
  const body = scenario.bodyBytes === undefined ? undefined : Buffer.alloc(scenario.bodyBytes, 'x')
  const want = expectedBody(url, scenario.bodyBytes ?? 0).body
  let last
  for (let i = 0; i < 3; i++) {
    const res = await httpRequest(port, url, body)
    if (res.status !== 200) return `status ${res.status}: ${res.body.subarray(0, 120).toString('utf8').replace(/\s+/g, ' ')}`
    if (!res.body.equals(want)) {
      let at = 0
      while (at < Math.min(res.body.length, want.length) && res.body[at] === want[at]) at++
      return `wrong body: ${res.body.length} bytes, expected ${want.length}; first difference at byte ${at}`
    }
    last = res
  }
  return last === undefined ? 'no response' : undefined
}

/** timeoutS: a request not answered within it counts as a wrk timeout (an error); a request still
 * waiting when the run ends is not counted at all, so it must be shorter than a run to see one. */
function runWrk (port, url, seconds, connections, script, timeoutS = 10) {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', `${timeoutS}s`, '--latency', ...(script === undefined ? [] : ['-s', script]), `http://${HOST}:${port}${url}`]
    const child = spawn(findBinary('wrk'), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    fs.appendFileSync(PIDS, `${child.pid}\n`)
    let out = ''
    child.stdout.on('data', (c) => { out += c })
    child.stderr.on('data', (c) => { out += c })
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(killer)
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`))
      resolve(parseWrk(out))
    })
  })
}

function toMs (value, unit) {
  const v = Number(value)
  return unit === 'us' ? v / 1000 : unit === 'ms' ? v : unit === 's' ? v * 1000 : unit === 'm' ? v * 60000 : NaN
}

function parseWrk (out) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out)
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out)
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out)
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    rps: rps === null ? NaN : Number(rps[1]),
    p99: p99 === null ? NaN : toMs(p99[1], p99[2]),
    p50: p50 === null ? NaN : toMs(p50[1], p50[2]),
    requests: total === null ? 0 : Number(total[1]),
    seconds: total === null ? NaN : toMs(total[2], total[3]) / 1000,
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: sock === null ? { connect: 0, read: 0, write: 0, timeout: 0 } : { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] },
    raw: out
  }
}

/** Share of the machine's CPU time that was busy over `ms` (nothing of ours runs then). */
async function busyShare (ms) {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = f[3] + (f[4] ?? 0)
    return { idle, total: f.reduce((a, b) => a + b, 0) }
  }
  const a = read()
  await sleep(ms)
  const b = read()
  const total = b.total - a.total
  return total <= 0 ? 0 : 1 - (b.idle - a.idle) / total
}

/** Other people's work on the machine skews a run: wait (a bounded time) for it to calm down. */
async function waitForQuiet (opts) {
  const started = Date.now()
  const deadline = started + Math.min(opts.quietWait * 1000, opts.quietBudgetMs ?? Infinity)
  let share = await busyShare(500)
  while (share > opts.quietThreshold && Date.now() < deadline) {
    await sleep(1000)
    share = await busyShare(500)
  }
  if (opts.quietBudgetMs !== undefined) opts.quietBudgetMs -= Date.now() - started
  return share
}

/** What one wrk run says, as the result's fields (goodput: 2xx/3xx responses a second; errors: all kinds). */
function wrkFields (wrk) {
  const errors = wrk.non2xx + wrk.socketErrors.connect + wrk.socketErrors.read + wrk.socketErrors.write + wrk.socketErrors.timeout
  const goodput = Number.isFinite(wrk.seconds) && wrk.seconds > 0 ? (wrk.requests - wrk.non2xx) / wrk.seconds : undefined
  return { rps: wrk.rps, goodput, p99: wrk.p99, p50: wrk.p50, requests: wrk.requests, non2xx: wrk.non2xx, socketErrors: wrk.socketErrors, errorCount: errors }
}

/** Where a run keeps its configuration and the gateway's output (output.log). */
function runDir (gateway, scenario, round) {
  return path.join(TMP, 'gw', `${gateway.id.replace(/[^\w.-]/g, '_')}-${scenario.id}-${round}`)
}

async function measure (gateway, scenario, backend, opts, round) {
  const background = await waitForQuiet(opts)
  const port = await freePort()
  const dir = runDir(gateway, scenario, round)
  fs.mkdirSync(dir, { recursive: true })
  const logFile = path.join(dir, 'output.log')
  const ctx = { port, scenario, backend: backend.address, dir, logFile }
  const connections = scenario.connections ?? opts.connections
  const script = wrkScriptFor(scenario, TMP)
  const entry = gateway.start(ctx)
  const result = { gateway: gateway.id, scenario: scenario.id, round, backgroundCpu: background, load1: os.loadavg()[0] }
  let slow
  try {
    await waitForAddress({ kind: 'tcp', host: HOST, port }, [entry], gateway.label)
    const problem = await verify(port, scenario)
    if (problem !== undefined) {
      result.error = problem
      return result
    }
    if (opts.warmup > 0) await runWrk(port, scenario.url, opts.warmup, connections, script)
    const sampler = new RssSampler(entry.pid)
    let wrk
    try {
      wrk = await runWrk(port, scenario.url, opts.duration, connections, script, scenario.wrkTimeout)
      if (scenario.slow !== undefined) {
        // the same measurement again, now beside the slow readers; CPU per request is the first one's
        result.alone = wrkFields(wrk)
        result.mainThreadCpuMs = sampler.mainThreadCpuMs()
        result.cpuMs = sampler.cpuMs()
        slow = startSlowClients({ spawnTracked, port, dir, scenario, seconds: opts.duration + 15, logFile })
        await sleep(1500)
        wrk = await runWrk(port, scenario.url, opts.duration, connections, script, scenario.wrkTimeout)
      }
    } finally {
      result.peakRssMiB = sampler.stop() / 1024
      result.mainThreadCpuMs ??= sampler.mainThreadCpuMs()
      result.cpuMs ??= sampler.cpuMs()
      if (slow !== undefined) {
        await stopTracked(slow.entry)
        result.slow = slow.read()
      }
    }
    const cpuRequests = result.alone?.requests ?? wrk.requests
    Object.assign(result, { cpuUsPerRequest: cpuRequests > 0 ? 1000 * result.cpuMs / cpuRequests : undefined, ...wrkFields(wrk) })
    if (entry.exited) result.error = `exited (${entry.code}) during the run`
  } catch (err) {
    result.error = String(err.message).split('\n')[0]
    let tail = ''
    try { tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-5).join(' | ') } catch {}
    if (tail.trim() !== '') result.error += ` (log: ${tail.slice(0, 300)})`
  } finally {
    if (slow !== undefined && !slow.entry.exited) await stopTracked(slow.entry)
    await stopTracked(entry)
  }
  return result
}

// ---------------------------------------------------------------------------- report
const fmtInt = (n) => n === undefined ? '-' : Math.round(n).toLocaleString('en-US')
const fmtMs = (n) => n === undefined ? '-' : n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(n >= 10 ? 1 : 2)} ms`
const fmtMiB = (n) => n === undefined ? '-' : `${n.toFixed(1)} MiB`
const fmtRatio = (n) => n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`

function summarize (runs) {
  const ok = runs.filter((r) => r.error === undefined)
  const errors = runs.filter((r) => r.error !== undefined).map((r) => r.error)
  const wrkErrors = ok.reduce((n, r) => n + r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout, 0)
  return {
    runs: runs.length,
    ok: ok.length,
    rps: median(ok.map((r) => r.rps)),
    p99: median(ok.map((r) => r.p99)),
    p50: median(ok.map((r) => r.p50)),
    rss: median(ok.map((r) => r.peakRssMiB)),
    cpu: median(ok.map((r) => r.cpuUsPerRequest)),
    rssMax: ok.length === 0 ? undefined : Math.max(...ok.map((r) => r.peakRssMiB)),
    allRps: ok.map((r) => Math.round(r.rps)),
    backgroundMax: runs.length === 0 ? undefined : Math.max(...runs.map((r) => r.backgroundCpu ?? 0)),
    loadMax: runs.some((r) => typeof r.load1 === 'number') ? Math.max(...runs.map((r) => r.load1 ?? 0)) : undefined,
    goodput: median(ok.map((r) => r.goodput)),
    aloneRps: median(ok.map((r) => r.alone?.rps)),
    aloneP99: median(ok.map((r) => r.alone?.p99)),
    slowCompleted: median(ok.map((r) => r.slow?.completed)),
    slowEndedEarly: ok.reduce((n, r) => n + (r.slow?.endedEarly ?? 0) + (r.slow?.errors ?? 0), 0),
    wrkErrors,
    errors: [...new Set(errors)]
  }
}

function machineInfo () {
  let cpu = '?'
  try { cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))[1] } catch {}
  let distro = '?'
  try { distro = /PRETTY_NAME="([^"]*)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))[1] } catch {}
  return `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${distro}, Linux ${os.release()}`
}

function versions () {
  const v = {}
  v.node = process.version
  try { v.fastify = require(require.resolve('fastify/package.json', { paths: [ROOT] })).version } catch {}
  try { v['fastify-fastcgi'] = `${require(path.join(ROOT, 'package.json')).version} (${execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}${execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'plugin'], { encoding: 'utf8' }).trim() === '' ? '' : ', plugin/ with uncommitted changes'})` } catch {}
  if (findBinary('lighttpd')) v.lighttpd = versionOf(['lighttpd', '-v'], /lighttpd\/(\S+)/)
  if (findBinary('nginx')) v.nginx = versionOf(['nginx', '-v'], /nginx\/(\S+)/)
  if (findBinary('h2o')) v.h2o = versionOf(['h2o', '--version'], /h2o version (\S+)/)
  if (findBinary('caddy')) v.caddy = versionOf(['caddy', 'version'], /^v?(\S+)/)
  const fpm = phpFpmBinary()
  if (fpm) v['php-fpm'] = versionOf([fpm, '-v'], /PHP (\S+)/)
  if (findBinary('wrk')) v.wrk = versionOf(['wrk', '-v'], /wrk (\S+)/)
  for (const pkg of ['fastcgi-client', 'php-fpm']) {
    try { v[`${pkg} (npm)`] = require(require.resolve(`${pkg}/package.json`, { paths: [BENCH] })).version } catch {}
  }
  return v
}

function report ({ opts, scenarios, gateways, unavailable, results, startedAt, finishedAt, command, aborted, versionInfo, machine }) {
  const L = []
  const date = startedAt.toISOString().slice(0, 10)
  L.push(`# fastify-fastcgi benchmark: ${date} (${opts.mode})`, '')
  L.push(`Command: \`${command}\``, '')
  L.push(`- Machine: ${machine ?? machineInfo()}`)
  L.push(`- Versions: ${Object.entries(versionInfo ?? versions()).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  L.push(`- Method: \`wrk -t1 -c${opts.connections} -d${opts.duration}s --timeout 10s\` (2 s in the many-processes scenario) per gateway after a ${opts.warmup} s warm-up; ${opts.rounds} round(s), gateways in alternating order (forward, reversed, ...), each started fresh per run and stopped after; medians over rounds. Every gateway's body is checked byte for byte before it is measured. Peak RSS: the largest sum of VmRSS over all the gateway's processes, sampled every 200 ms during the run. Loopback and unix sockets only; wrk, the gateway and the backends share the machine's cores.`)
  L.push('- Backends (the same for every gateway, started once): `test/fixtures/c/hello.c` (libfcgi) as 2 processes accepting on one socket (`?bytes=N` for the 64 KiB and 1 MiB bodies); php-fpm, `pm = static`, 2 children, `-n` (no php.ini, so no opcache), `bench/www/hello.php`.')
  L.push('- Gateways: fastify-fastcgi (`bench/gateways/fastify-fastcgi.js`: Fastify, logger off, the plugin with `maxConcurrency: 2` = the backend\'s processes, keep-alive on); lighttpd mod_fastcgi (a connection per request); nginx, 1 worker, without and with `fastcgi_keep_conn` (upstream `keepalive 8`); h2o, 1 thread; Caddy (`reverse_proxy` + `transport fastcgi`, `php_fastcgi` for PHP), GOMAXPROCS=1; the npm clients `fastcgi-client` and `php-fpm` in a minimal node:http server; bare Fastify answering the same body itself (the Node ceiling); the Node floor (`bench/gateways/node-floor.js`: node:http and node:net, kept connections capped at 2 as ours, minimal params, no routing, checks or timeouts: what any Node FastCGI gateway costs at the least), and the same floor holding the heap ours holds (`SAME_HEAP=1`: Fastify and the plugin loaded and registered on an app that never listens); in the many-processes scenario also the floor with a connection per request (`KEEP_CONN=0`), the one that leaves no client waiting for another process\'s kept connection. Keep-alive request limits raised where a server closes client connections every N requests (lighttpd, nginx).')
  L.push('- Gateways as users write them (issue 14): `fastify-fastcgi as written` is the plugin with `{ socket }` / `{ host, port }` only (no maxConcurrency, no keepAlive: whatever its defaults are), beside the tuned variant. The Node floor reads a request body whole before it takes a backend connection (`BUFFER_REQUEST_BODY=1`).')
  L.push('- Scenarios of issue 14 (`bench/lib/shapes.js`): POST of 4 KiB and 1 MiB to `bench/www/body.php` (PHP reads php://input and answers its length; wrk sends the body with a Lua script); overload: `wrk -c256` on `bench/www/sleep.php` (5 ms) against the 2 php-fpm children; slow clients: C hello measured alone, then beside 200 slow readers of 1 MiB at 256 KiB/s (`bench/lib/slow-clients.js`); many processes: Node gateways as 2 node:cluster workers on one socket, nginx 2 workers, h2o 2 threads, lighttpd in its one process (its `server.max-worker` mode signals its whole process group on exit, the driver of the benchmark included), and ours as written in 1 process. These run the gateways the issue names (ours as written and tuned, lighttpd, nginx, h2o, the Node floor, bare Fastify).')
  if (unavailable.length > 0) L.push(`- Not measured (unavailable on this machine): ${unavailable.map((u) => `${u.label} (missing ${u.missing.join(', ')})`).join('; ')}`)
  L.push(`- Quiet check: before each run the driver measures how busy the machine is without us (0.5 s of /proc/stat) and waits up to ${opts.quietWait} s for it to fall under ${Math.round(100 * opts.quietThreshold)}%; the per-scenario tables show the worst value seen (other work on the machine during a run lowers every number, and not equally).`)
  L.push(`- Duration: ${Math.round((finishedAt - startedAt) / 1000)} s${aborted ? ' (stopped early at its time limit: some runs are missing)' : ''}`, '')

  const byScenario = new Map()
  for (const s of scenarios) {
    const m = new Map()
    for (const g of gateways) m.set(g.id, summarize(results.filter((r) => r.scenario === s.id && r.gateway === g.id)))
    byScenario.set(s.id, m)
  }

  L.push('## Requests per second (median)', '')
  L.push(`| scenario | ${gateways.map((g) => g.label).join(' | ')} |`)
  L.push(`|---|${gateways.map(() => '---:').join('|')}|`)
  for (const s of scenarios) {
    const m = byScenario.get(s.id)
    L.push(`| ${s.title} | ${gateways.map((g) => { const x = m.get(g.id); return x.rps === undefined ? (x.errors.length > 0 ? 'fails' : '-') : fmtInt(x.rps) }).join(' | ')} |`)
  }
  L.push('', '## p99 latency (median)', '')
  L.push(`| scenario | ${gateways.map((g) => g.label).join(' | ')} |`)
  L.push(`|---|${gateways.map(() => '---:').join('|')}|`)
  for (const s of scenarios) {
    const m = byScenario.get(s.id)
    L.push(`| ${s.title} | ${gateways.map((g) => fmtMs(m.get(g.id).p99)).join(' | ')} |`)
  }
  L.push('', '## Peak RSS of the gateway (median of runs)', '')
  L.push(`| scenario | ${gateways.map((g) => g.label).join(' | ')} |`)
  L.push(`|---|${gateways.map(() => '---:').join('|')}|`)
  for (const s of scenarios) {
    const m = byScenario.get(s.id)
    L.push(`| ${s.title} | ${gateways.map((g) => fmtMiB(m.get(g.id).rss)).join(' | ')} |`)
  }

  L.push('', '## Gateway CPU time per request (median; user + system of all its processes / requests served)', '')
  L.push('Less sensitive to other load on the machine than req/s: what the gateway itself spends on a request.', '')
  L.push(`| scenario | ${gateways.map((g) => g.label).join(' | ')} |`)
  L.push(`|---|${gateways.map(() => '---:').join('|')}|`)
  for (const s of scenarios) {
    const m = byScenario.get(s.id)
    L.push(`| ${s.title} | ${gateways.map((g) => { const c = m.get(g.id).cpu; return c === undefined ? '-' : `${c.toFixed(1)} µs` }).join(' | ')} |`)
  }

  // targets of the issue
  const ours = gateways.find((g) => g.id === 'fastify-fastcgi')
  if (ours !== undefined) {
    L.push('', '## fastify-fastcgi against the targets', '')
    L.push('Targets: req/s at or above the best of lighttpd, nginx and h2o, with p99 no worse than lighttpd\'s; at least 4x the best Node FastCGI client; peak RSS within 30 MiB of bare Fastify\'s. nginx with `fastcgi_keep_conn` is left out of "best server": its req/s come with a p99 of seconds (kept connections pin the prefork backend\'s processes while new ones wait in its accept queue), the failure our connection reuse must avoid.', '')
    L.push('The two floor columns are not targets: our CPU per request against the Node floor\'s, what is ours to remove (1.00x: nothing), bare and holding the heap ours holds (Fastify and the plugin loaded; see docs/performance.md, "The floor\'s heap").', '')
    L.push('"ours" is the tuned variant (the reference); the last three columns are the plugin as users write it (`{ socket }` / `{ host, port }`), against the best tuned variant of the same run (target of issue 14: within 5%, i.e. 0.95x or more) and bare Fastify\'s RSS (target: within 30 MiB).', '')
    L.push('| scenario | ours req/s | best server | ours / best | ours p99 | lighttpd p99 | best Node client | ours / client | ours RSS - bare Fastify RSS | ours CPU / Node floor CPU | ours CPU / floor, same heap | met | as written req/s | as written / best tuned | as written RSS - bare Fastify RSS |')
    L.push('|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|')
    for (const s of scenarios) {
      const m = byScenario.get(s.id)
      const o = m.get('fastify-fastcgi')
      const servers = gateways.filter((g) => ['lighttpd', 'nginx', 'h2o'].includes(g.id)).map((g) => [g, m.get(g.id)]).filter(([, x]) => x.rps !== undefined)
      const best = servers.sort((a, b) => b[1].rps - a[1].rps)[0]
      const clients = gateways.filter((g) => g.nodeClient).map((g) => [g, m.get(g.id)]).filter(([, x]) => x.rps !== undefined)
      const bestClient = clients.sort((a, b) => b[1].rps - a[1].rps)[0]
      const light = m.get('lighttpd')
      const bare = m.get('bare-fastify')
      const cpuAgainst = (id) => { const c = m.get(id)?.cpu; return o.cpu !== undefined && c !== undefined ? o.cpu / c : undefined }
      const rFloor = cpuAgainst('node-floor')
      const rFloorHeap = cpuAgainst('node-floor-heap')
      const rBest = best && o.rps !== undefined ? o.rps / best[1].rps : undefined
      const rClient = bestClient && o.rps !== undefined ? o.rps / bestClient[1].rps : undefined
      const dRss = o.rss !== undefined && bare && bare.rss !== undefined ? o.rss - bare.rss : undefined
      const checks = []
      if (rBest !== undefined) checks.push(rBest >= 1 ? 'req/s yes' : 'req/s no')
      if (o.p99 !== undefined && light && light.p99 !== undefined) checks.push(o.p99 <= light.p99 ? 'p99 yes' : 'p99 no')
      if (rClient !== undefined) checks.push(rClient >= 4 ? '4x yes' : '4x no')
      if (dRss !== undefined) checks.push(dRss <= 30 ? 'RSS yes' : 'RSS no')
      const written = m.get('fastify-fastcgi-as-written')
      const tunedRps = gateways.filter((g) => g.tuned).map((g) => m.get(g.id).rps).filter((x) => x !== undefined)
      const bestTuned = tunedRps.length === 0 ? undefined : Math.max(...tunedRps)
      const rWritten = written?.rps !== undefined && bestTuned !== undefined ? written.rps / bestTuned : undefined
      const dWrittenRss = written?.rss !== undefined && bare?.rss !== undefined ? written.rss - bare.rss : undefined
      if (rWritten !== undefined) checks.push(rWritten >= 0.95 ? 'as written yes' : 'as written no')
      const fmtDelta = (d) => d === undefined ? '-' : `${d >= 0 ? '+' : ''}${d.toFixed(1)} MiB`
      L.push(`| ${s.title} | ${fmtInt(o.rps)} | ${best ? `${best[0].label} ${fmtInt(best[1].rps)}` : '-'} | ${fmtRatio(rBest)} | ${fmtMs(o.p99)} | ${fmtMs(light?.p99)} | ${bestClient ? `${bestClient[0].label} ${fmtInt(bestClient[1].rps)}` : '-'} | ${fmtRatio(rClient)} | ${fmtDelta(dRss)} | ${fmtRatio(rFloor)} | ${fmtRatio(rFloorHeap)} | ${checks.join(', ')} | ${fmtInt(written?.rps)} | ${fmtRatio(rWritten)} | ${fmtDelta(dWrittenRss)} |`)
    }
  }

  L.push(...shapeReport({ scenarios, gateways, byScenario, fmt: { fmtInt, fmtMs, fmtMiB, fmtRatio } }))

  L.push('', '## Per scenario', '')
  for (const s of scenarios) {
    const m = byScenario.get(s.id)
    const light = m.get('lighttpd')
    L.push(`### ${s.title}: \`${s.bodyBytes === undefined ? 'GET' : `POST (${s.bodyBytes} bytes)`} ${s.url}\`${s.connections !== undefined ? `, ${s.connections} connections` : ''}`, '')
    L.push('| gateway | req/s | vs lighttpd | p50 | p99 | peak RSS | CPU per request | wrk errors | req/s per round | machine busy before (max) | load average, 1 min (max) | problems |')
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|')
    for (const g of gateways) {
      const x = m.get(g.id)
      if (x.runs === 0) continue
      const ratio = x.rps !== undefined && light && light.rps !== undefined ? x.rps / light.rps : undefined
      L.push(`| ${g.label} | ${fmtInt(x.rps)} | ${fmtRatio(ratio)} | ${fmtMs(x.p50)} | ${fmtMs(x.p99)} | ${fmtMiB(x.rss)} | ${x.cpu === undefined ? '-' : `${x.cpu.toFixed(1)} µs`} | ${x.ok > 0 ? x.wrkErrors : '-'} | ${x.allRps.join(', ')} | ${x.backgroundMax === undefined ? '-' : `${Math.round(100 * x.backgroundMax)}%`} | ${x.loadMax === undefined ? '-' : x.loadMax.toFixed(1)} | ${x.errors.join('; ').replace(/\|/g, '/')} |`)
    }
    L.push('')
  }
  return L.join('\n') + '\n'
}

// ---------------------------------------------------------------------------- main
async function main () {
  const opts = parseArgs(process.argv.slice(2))
  fs.mkdirSync(TMP, { recursive: true })
  if (!fs.existsSync(HELLO_BIN)) throw new Error(`no C hello at ${HELLO_BIN} (bench/run.sh builds it)`)
  if (findBinary('wrk') === undefined) throw new Error('wrk is not installed')
  if (opts.mode === 'profile') return profile(opts)
  if (opts.mode === 'gc-trace') return gcTrace(opts)
  if (opts.report !== undefined) return rerender(opts.report, opts.out)

  let scenarios = SCENARIOS
  if (opts.scenarios !== undefined) scenarios = opts.scenarios.map((id) => SCENARIOS.find((s) => s.id === id) ?? (() => { throw new Error(`no scenario ${id}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`) })())
  else if (opts.mode === 'short') scenarios = SCENARIOS.filter((s) => SHORT_SCENARIOS.includes(s.id))
  let candidates = GATEWAYS.filter((g) => !g.optIn)
  if (opts.gateways !== undefined) candidates = opts.gateways.map((id) => GATEWAYS.find((g) => g.id === id) ?? variantGateway(id) ?? (() => { throw new Error(`no gateway ${id}; known: ${GATEWAYS.map((g) => g.id).join(', ')}, or fastify-fastcgi:cap=N:ka=0|1:dist=DIR:node=--flag+--flag`) })())
  const unavailable = []
  const gateways = []
  for (const g of candidates) {
    const missing = missingFor(g)
    if (missing.length > 0) unavailable.push({ id: g.id, label: g.label, missing })
    else gateways.push(g)
  }
  if (scenarios.some((s) => s.backend === 'php') && phpFpmBinary() === undefined) {
    log('php-fpm is not installed: the PHP scenarios are skipped')
    scenarios = scenarios.filter((s) => s.backend !== 'php')
  }

  const explicit = opts.gateways !== undefined
  const runsPerRound = scenarios.reduce((n, s) => n + gatewaysFor(s, gateways, explicit).length * (s.slow !== undefined ? 2 : 1), 0)
  const perRun = opts.warmup + opts.duration + 2.5
  const estimate = runsPerRound * opts.rounds * perRun
  // waiting for a quiet machine has its own budget (half the estimate); the run is bounded either way
  opts.quietBudgetMs = estimate * 500
  const deadline = Date.now() + (Math.max(120, estimate * 1.5) + estimate * 0.5 + 60) * 1000
  log(`${opts.mode}: ${scenarios.length} scenarios x up to ${gateways.length} gateways x ${opts.rounds} rounds, about ${Math.round(estimate / 60)} min; unavailable: ${unavailable.map((u) => u.label).join(', ') || 'none'}`)

  const startedAt = new Date()
  // versions as built for this run (dist/ was built from the work tree just before)
  const versionInfo = versions()
  const machine = machineInfo()
  const results = []
  const backends = new Map()
  let aborted = false
  const backendFor = async (s) => {
    const key = `${s.backend}-${s.transport}`
    if (!backends.has(key)) {
      const address = s.transport === 'unix'
        ? { kind: 'unix', path: path.join(TMP, `${key}.sock`) }
        : { kind: 'tcp', host: HOST, port: await freePort() }
      backends.set(key, s.backend === 'php' ? await startPhpFpm(address, key) : await startCBackend(address, key))
    }
    return backends.get(key)
  }
  try {
    for (const s of scenarios) {
      const backend = await backendFor(s)
      for (let round = 0; round < opts.rounds && !aborted; round++) {
        const here = gatewaysFor(s, gateways, explicit)
        const order = round % 2 === 0 ? here : [...here].reverse()
        for (const g of order) {
          if (Date.now() > deadline) { aborted = true; break }
          const r = await measure(g, s, backend, opts, round)
          results.push(r)
          log(`${s.id} round ${round + 1}/${opts.rounds} ${g.id}: ${r.error !== undefined ? `ERROR ${r.error}` : `${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms, RSS ${r.peakRssMiB.toFixed(1)} MiB, CPU ${r.cpuUsPerRequest?.toFixed(1)} µs/req, busy before ${Math.round(100 * r.backgroundCpu)}%, load ${r.load1.toFixed(1)}${r.alone !== undefined ? `, alone ${Math.round(r.alone.rps)} req/s p99 ${r.alone.p99.toFixed(2)} ms` : ''}${r.slow !== undefined ? `, slow ${JSON.stringify(r.slow)}` : ''}${r.non2xx + r.socketErrors.read + r.socketErrors.connect + r.socketErrors.timeout > 0 ? `, errors ${JSON.stringify({ non2xx: r.non2xx, ...r.socketErrors })}` : ''}`}`)
        }
      }
      if (aborted) break
    }
  } finally {
    for (const b of backends.values()) await Promise.all(b.entries.map((e) => stopTracked(e)))
  }
  const finishedAt = new Date()
  const command = process.env.BENCH_COMMAND ?? `bash bench/run.sh ${process.argv.slice(2).join(' ')}`.trim()
  const md = report({ opts, scenarios, gateways, unavailable, results, startedAt, finishedAt, command, aborted, versionInfo, machine })
  const outFile = opts.out ?? path.join(BENCH, 'results', `${startedAt.toISOString().slice(0, 10)}-${opts.mode}.md`)
  fs.mkdirSync(path.dirname(outFile), { recursive: true })
  fs.writeFileSync(outFile, md)
  fs.writeFileSync(outFile.replace(/\.md$/, '') + '.json', JSON.stringify({ opts, startedAt, finishedAt, results, command, aborted, unavailable, versionInfo, machine, scenarios: scenarios.map((s) => s.id), gateways: gateways.map((g) => g.id) }, null, 2))
  process.stdout.write(md)
  log(`written ${path.relative(process.cwd(), outFile)}`)
}

/** Renders the Markdown of a saved run again (its .json), e.g. after a fix to the report. */
function rerender (jsonFile, out) {
  const saved = JSON.parse(fs.readFileSync(jsonFile, 'utf8'))
  const ids = saved.gateways ?? [...new Set(saved.results.map((r) => r.gateway))]
  const gateways = ids.map((id) => GATEWAYS.find((g) => g.id === id) ?? variantGateway(id))
  const sids = saved.scenarios ?? [...new Set(saved.results.map((r) => r.scenario))]
  const scenarios = sids.map((id) => SCENARIOS.find((s) => s.id === id))
  const md = report({
    opts: saved.opts,
    scenarios,
    gateways,
    unavailable: saved.unavailable ?? [],
    results: saved.results,
    startedAt: new Date(saved.startedAt),
    finishedAt: new Date(saved.finishedAt),
    command: saved.command ?? `bash bench/run.sh${saved.opts.mode === 'short' ? ' --short' : ''}`,
    aborted: saved.aborted ?? false,
    versionInfo: saved.versionInfo,
    machine: saved.machine
  })
  const outFile = out ?? jsonFile.replace(/\.json$/, '.md')
  fs.writeFileSync(outFile, md)
  process.stdout.write(md)
}

// ---------------------------------------------------------------------------- profile
// node --cpu-prof on the fastify-fastcgi gateway (or PROFILE_GATEWAY) against the C hello over a unix socket.
async function profile (opts) {
  const { summarizeProfile } = require('./profile-summary')
  const scenario = SCENARIOS.find((s) => s.id === (opts.scenarios?.[0] ?? 'c-hello-unix'))
  const profDir = path.join(TMP, 'cpuprofile')
  fs.mkdirSync(profDir, { recursive: true })
  // PROFILE_GATEWAY=node-floor (or any Node gateway's id) profiles it instead, to read profiles side by side
  const gateway = nodeGatewayWithArgs(opts.gateways?.[0] ?? process.env.PROFILE_GATEWAY ?? 'fastify-fastcgi', ['--cpu-prof', `--cpu-prof-dir=${profDir}`])
  const r = await measureOnce(gateway, scenario, opts, 'profile')
  const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0]
  if (file === undefined) throw new Error('no .cpuprofile was written')
  const keep = opts.out ?? path.join(BENCH, 'results', `${new Date().toISOString().slice(0, 10)}-profile.cpuprofile`)
  fs.mkdirSync(path.dirname(keep), { recursive: true })
  fs.copyFileSync(file, keep)
  const text = `Profile of ${gateway.label}, ${scenario.title}, wrk -t1 -c${opts.connections} -d${opts.duration}s: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms (with the profiler on)\n\n` + summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), ROOT)
  fs.writeFileSync(keep.replace(/\.cpuprofile$/, '.txt'), text)
  process.stdout.write(text)
  log(`profile: ${path.relative(process.cwd(), keep)} (open it in Chrome DevTools > Performance, or speedscope)`)
}

/** One run of `gateway` on `scenario` with a backend of its own, stopped after; throws when the run failed. */
async function measureOnce (gateway, scenario, opts, tag) {
  const address = scenario.transport === 'unix' ? { kind: 'unix', path: path.join(TMP, `${tag}.sock`) } : { kind: 'tcp', host: HOST, port: await freePort() }
  const backend = scenario.backend === 'php' ? await startPhpFpm(address, tag) : await startCBackend(address, tag)
  let r
  try {
    r = await measure(gateway, scenario, backend, opts, 0)
  } finally {
    await Promise.all(backend.entries.map((e) => stopTracked(e)))
  }
  if (r.error !== undefined) throw new Error(`${tag} run failed: ${r.error}`)
  return r
}

/** A Node gateway (an id of GATEWAYS, or a fastify-fastcgi:... variant) started with more node flags. */
function nodeGatewayWithArgs (id, nodeArgs) {
  const found = GATEWAYS.find((g) => g.id === id) ?? variantGateway(id)
  if (found?.start.withNodeArgs === undefined) throw new Error(`${id} is not a Node gateway; one of ${GATEWAYS.filter((g) => g.start.withNodeArgs !== undefined).map((g) => g.id).join(', ')}, or fastify-fastcgi:...`)
  return { ...found, start: found.start.withNodeArgs(nodeArgs) }
}

// ---------------------------------------------------------------------------- gc trace
// What V8's collector does in one Node gateway under load (node --trace-gc
// --trace-incremental-marking): scavenges, mark-compacts, what started incremental marking, and
// the CPU per request of the main thread against the other threads (V8's helpers, libuv).
// C 64 KiB over a unix socket unless --scenarios names another; --gateways names the gateway
// (node-floor-heap: the floor holding our heap; fastify-fastcgi:node=--max-semi-space-size=4).
// The counts cover the warm-up too, as V8 prints them for the whole process.
async function gcTrace (opts) {
  const scenario = SCENARIOS.find((s) => s.id === (opts.scenarios?.[0] ?? 'c-64k-unix'))
  if (scenario === undefined) throw new Error(`no scenario ${opts.scenarios?.[0]}`)
  const gateway = nodeGatewayWithArgs(opts.gateways?.[0] ?? 'fastify-fastcgi', ['--trace-gc', '--trace-incremental-marking'])
  const r = await measureOnce(gateway, scenario, opts, 'gc-trace')
  const trace = fs.readFileSync(path.join(runDir(gateway, scenario, 0), 'output.log'), 'utf8').split('\n')
  const count = (text) => trace.filter((line) => line.includes(text)).length
  const starts = new Map()
  for (const line of trace) {
    const m = /IncrementalMarking\] Start \(([a-z ]*)\)/.exec(line)
    if (m !== null) starts.set(m[1], (starts.get(m[1]) ?? 0) + 1)
  }
  const lastMarkCompact = trace.filter((line) => line.includes('Mark-Compact')).pop()
  const perRequest = (ms) => `${Math.round(1000 * ms / r.requests)} µs`
  const text = [
    `${gateway.label}, ${scenario.title}, wrk -t1 -c${scenario.connections ?? opts.connections} -d${opts.duration}s after ${opts.warmup} s: ${r.requests} requests, ${Math.round(r.rps)} req/s, p99 ${fmtMs(r.p99)}`,
    `CPU per request: main thread ${perRequest(r.mainThreadCpuMs)}, other threads ${perRequest(r.cpuMs - r.mainThreadCpuMs)}`,
    `peak RSS: ${fmtMiB(r.peakRssMiB)}`,
    `scavenges: ${count('Scavenge')}, mark-compacts: ${count('Mark-Compact')}`,
    'incremental marking started by:',
    ...(starts.size === 0 ? ['  (never)'] : [...starts].map(([why, n]) => `  ${n} ${why}`)),
    `last mark-compact: ${lastMarkCompact === undefined ? '-' : lastMarkCompact.replace(/^.*Mark-Compact/, 'Mark-Compact').replace(/, [0-9.]* \/.*$/, '')}`
  ].join('\n') + '\n'
  process.stdout.write(text)
}

let stopping = false
async function shutdown (code) {
  if (stopping) return
  stopping = true
  await stopAll()
  process.exit(code)
}
process.on('SIGINT', () => shutdown(130))
process.on('SIGTERM', () => shutdown(143))
main().then(() => shutdown(0), (err) => { console.error(`bench: ${err.stack ?? err}`); shutdown(1) })
