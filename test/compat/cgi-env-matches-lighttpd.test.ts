// THE differential test: lighttpd 1.4.69 (the Debian package) and the plugin, both in front of
// the same php-cgi (`php-cgi -b`) with the same document root and the same env.php, get the
// same requests over real HTTP; the CGI variables PHP saw must be equal, except the ones
// listed below with the reason. The libfcgi `env` program (prints every param in the order it
// arrived) is a second backend: it also compares the param ORDER, and it serves the
// configurations whose SCRIPT_FILENAME is a directory (fix-root-scriptname), where PHP can only
// answer "No input file specified".
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import http from 'node:http'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiHostOptions } from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { hasLighttpd, startLighttpd } from '../helpers/lighttpd'
import type { LighttpdValue } from '../helpers/lighttpd'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { makeTempDir } from '../helpers/tmp'

/** Variables that differ between the two gateways by nature, never compared. */
const IGNORED: Record<string, string> = {
  SERVER_SOFTWARE: 'lighttpd sends server.tag, the plugin its serverSoftware option',
  SERVER_PORT: 'each gateway listens on its own port',
  REMOTE_PORT: 'each client connection has its own source port',
  REQUEST_TIME: "PHP's own: when the request arrived",
  REQUEST_TIME_FLOAT: "PHP's own: when the request arrived"
}

/**
 * Deliberate differences (docs/lighttpd-differences.md): variable -> reason. Each is checked
 * to have the plugin's documented value, so a change in either direction is noticed.
 */
const DELIBERATE: Record<string, { reason: string, plugin: (lighttpd: string | undefined, rawTarget: string) => string | undefined }> = {
  QUERY_STRING: {
    reason: 'lighttpd sends the query after its URL normalization (%7e%41 -> ~A, upper-case hex); ' +
      'the plugin sends it exactly as received (README: the application sees what the client sent)',
    plugin: (_lighttpd, rawTarget) => rawTarget.includes('?') ? rawTarget.slice(rawTarget.indexOf('?') + 1) : ''
  },
  REDIRECT_URI: {
    reason: 'lighttpd sends REDIRECT_URI whenever its URL normalization changed the target (%7e -> ~, /./ removed); ' +
      'the plugin has no rewrite stage and never sends it',
    plugin: () => undefined
  }
}

const ENV_PHP = readFileSync(join(PHP_FIXTURES, 'env.php'), 'utf8')
const HOST = 'compat.test'

interface Req {
  path: string
  method?: string
  /** raw header list, name/value pairs in order (Host is added first) */
  headers?: string[]
  body?: string
  /** both must answer with this status */
  status?: number
  /** the status through the env program when it differs (it answers whatever SCRIPT_FILENAME is) */
  envStatus?: number
  /** the statuses differ on purpose: [lighttpd, plugin, reason] */
  statusDiffers?: [number, number, string]
}

interface Scenario {
  name: string
  /** files holding env.php, relative to the document root */
  files: string[]
  /** files holding env.php under a second root used as the `docroot` host option */
  docrootFiles?: string[]
  key: string
  host: FastcgiHostOptions
  mapExtensions?: Record<string, string>
  indexFiles?: string[]
  /** which backends to compare through (default both) */
  backends?: Array<'php' | 'env'>
  requests: Req[]
}

const HEADERS_MIX = [
  'X-Rep', 'a', 'x-rep', 'b',
  'Cookie', 'a=1', 'Cookie', 'b=2',
  'Authorization', 'Basic dXNlcjpwYXNz',
  'Proxy', 'http://evil.example:8080',
  'X-Empty', '',
  'x.dot+plus', 'dots',
  'Accept', 'text/html', 'Accept', 'application/json'
]

const SCENARIOS: Scenario[] = [
  {
    name: 'suffix .php, check-local on',
    files: ['env.php', 'info/x.php', 'a b.php', 'dir/index.php', 'uploads/x.jpg'],
    key: '.php',
    host: { checkLocal: true },
    indexFiles: ['index.php'],
    requests: [
      { path: '/env.php', status: 200 },
      { path: '/env.php?a=1&b=two+three&c=%41', status: 200 },
      { path: '/info/x.php/a/b?q=1', status: 200 },
      { path: '/env.php/', status: 200 },
      { path: '/a%20b.php', status: 200 },
      { path: '/a%20b.php/p%20q', status: 200 },
      { path: '/dir/', status: 200 },
      { path: '/dir/?x=1', status: 200 },
      { path: '/env.php', headers: HEADERS_MIX, status: 200 },
      { path: '/env.php?form=1', method: 'POST', headers: ['Content-Type', 'application/x-www-form-urlencoded'], body: 'a=1&b=2', status: 200 },
      { path: '/env.php', method: 'POST', headers: ['Content-Type', 'application/octet-stream'], body: '', status: 200 },
      { path: '/env.php?q=%7e%41', status: 200 },
      { path: '/info/./x.php', status: 200 },
      { path: '/info/%2e/x.php', status: 200 },
      { path: '/info/..%2fenv.php', status: 200 },
      { path: '/dir', status: 301 },
      { path: '/env.php/%2e%2e/%2e%2e/etc/passwd', status: 404 },
      { path: '/%2e%2e/%2e%2e/etc/passwd', status: 404 },
      { path: '/missing.php', status: 404 },
      { path: '/missing.php/x', status: 404 },
      { path: '/uploads/x.jpg/y.php', statusDiffers: [200, 404, 'lighttpd serves x.jpg as a static file, the plugin serves no static files; neither runs it'] }
    ]
  },
  {
    name: 'suffix .php, check-local off',
    files: ['env.php', 'info/x.php'],
    key: '.php',
    host: { checkLocal: false },
    requests: [
      { path: '/env.php?x=1', status: 200 },
      { path: '/info/x.php/a/b', status: 200 },
      // forwarded although missing: PHP answers 404 "No input file specified" itself
      { path: '/missing.php', status: 404, envStatus: 200 },
      // no local file to split at
      { path: '/missing.php/x', status: 404 }
    ]
  },
  {
    name: 'prefix /app, check-local off',
    files: ['app', 'application'],
    key: '/app',
    host: { checkLocal: false },
    requests: [
      { path: '/app', status: 200 },
      { path: '/app?x=1', status: 200 },
      { path: '/app/', status: 200 },
      { path: '/app/foo/bar?q', status: 200 },
      { path: '/application/x', status: 200 }
    ]
  },
  {
    name: 'prefix /app/, check-local off',
    files: ['app/foo', 'app/index.php'],
    key: '/app/',
    host: { checkLocal: false },
    requests: [
      { path: '/app/foo', status: 200 },
      { path: '/app/foo/bar', status: 200 },
      { path: '/app/index.php', status: 200 },
      { path: '/app', statusDiffers: [301, 404, 'lighttpd\'s core redirects a directory to dir/; the plugin only routes /app/* and has no index file there'] }
    ]
  },
  {
    name: 'prefix /app/, check-local off, a directory as SCRIPT_FILENAME',
    files: ['app/foo'],
    key: '/app/',
    host: { checkLocal: false },
    backends: ['env'],
    requests: [
      { path: '/app/', status: 200 }
    ]
  },
  {
    name: 'prefix /, check-local off',
    files: ['abc'],
    key: '/',
    host: { checkLocal: false },
    requests: [
      { path: '/abc', status: 200 },
      { path: '/abc/def/ghi?x=y', status: 200 }
    ]
  },
  {
    name: 'prefix /, fix-root-scriptname',
    files: ['abc'],
    key: '/',
    host: { checkLocal: false, fixRootScriptname: true },
    backends: ['env'],
    requests: [
      { path: '/', status: 200 },
      { path: '/abc', status: 200 },
      { path: '/abc/def/ghi?q=1', status: 200 }
    ]
  },
  {
    name: 'docroot option and strip-request-uri',
    files: [],
    docrootFiles: ['app1/env.php', 'app10/env.php', 'env.php'],
    key: '.php',
    host: { checkLocal: false, stripRequestUri: '/app1/' },
    requests: [
      { path: '/app1/env.php?a=1', status: 200 },
      { path: '/app10/env.php', status: 200 },
      { path: '/env.php?app1', status: 200 }
    ]
  },
  {
    name: 'broken-scriptfilename',
    files: ['env.php'],
    key: '.php',
    host: { checkLocal: true, brokenScriptfilename: true },
        requests: [
      { path: '/env.php', status: 200 },
      { path: '/env.php/x/y', status: 200 }
    ]
  },
  {
    name: 'map-extensions .php3 -> .php',
    files: ['legacy.php3', 'env.php'],
    key: '.php',
    host: { checkLocal: true },
    mapExtensions: { '.php3': '.php' },
    requests: [
      { path: '/legacy.php3', status: 200 },
      { path: '/legacy.php3/extra', status: 200 },
      { path: '/env.php', status: 200 }
    ]
  }
]

interface Backend { kind: 'php' | 'env', forLighttpd: FastcgiHostOptions, forPlugin: FastcgiHostOptions }

function writeTree (root: string, files: string[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true })
    // an "image" holding PHP that must never run (/uploads/x.jpg/y.php)
    writeFileSync(join(root, file), file.endsWith('.jpg') ? readFileSync(join(PHP_FIXTURES, 'uploads', 'x.jpg')) : ENV_PHP)
  }
}

/** The params a backend saw, in arrival order (PHP: sorted by name, order not comparable). */
function paramsOf (kind: 'php' | 'env', res: Res): Array<[string, string]> {
  const text = res.body.toString('utf8')
  if (kind === 'env') {
    return text.split('\n').filter((l) => l !== '').map((line) => {
      const eq = line.indexOf('=')
      return [line.slice(0, eq), line.slice(eq + 1)]
    })
  }
  const json = JSON.parse(text) as { server: Record<string, unknown> }
  return Object.entries(json.server).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
}

/** Sends the path byte for byte (a URL string would be normalized by WHATWG URL first). */
async function send (base: string, req: Req): Promise<Res> {
  const { hostname, port } = new URL(base)
  const headers = ['Host', HOST, ...(req.headers ?? [])]
  if (req.body !== undefined) headers.push('Content-Length', String(Buffer.byteLength(req.body)))
  return await new Promise<Res>((resolve, reject) => {
    const r = http.request({ host: hostname, port, path: req.path, method: req.method ?? 'GET', headers: headers as unknown as OutgoingHttpHeaders, agent: false, timeout: 20000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.once('error', reject)
    })
    r.once('timeout', () => { r.destroy(new Error(`${base}${req.path} timed out`)) })
    r.once('error', reject)
    r.end(req.body)
  })
}

interface Res { status: number, headers: IncomingHttpHeaders, body: Buffer }

const skip = !hasPhpCgi() ? 'php-cgi missing' : !hasLighttpd() ? 'lighttpd missing' : false

t.test('the CGI environment matches lighttpd 1.4.69 in front of php-cgi', { skip }, async (t) => {
  // php-cgi as Debian ships it (cgi.fix_pathinfo=1); one process pool serves both gateways
  const php = await startPhpCgi(t, { children: 2 })
  const backends: Backend[] = [{ kind: 'php', forLighttpd: php.options, forPlugin: php.options }]
  if (hasLibfcgi()) {
    // one env program per gateway: it serves one connection at a time, and the plugin keeps
    // its connection open (FCGI_KEEP_CONN) where lighttpd closes it
    const binary = buildCApp('env')
    const [a, b] = await Promise.all([startCApp(t, binary), startCApp(t, binary)])
    backends.push({ kind: 'env', forLighttpd: a.options, forPlugin: b.options })
  } else {
    t.comment('libfcgi missing: param order and fix-root-scriptname not compared')
  }
  const found = new Map<string, Set<string>>()

  for (const scenario of SCENARIOS) {
    const wanted = scenario.backends ?? ['php', 'env']
    for (const backend of backends.filter((b) => wanted.includes(b.kind))) {
      await t.test(`${scenario.name} [${backend.kind}]`, async (t) => {
        const root = makeTempDir(t, 'ffcgi-compat-')
        const documentRoot = join(root, 'www')
        mkdirSync(documentRoot)
        writeTree(documentRoot, scenario.files)
        let docroot: string | undefined
        if (scenario.docrootFiles !== undefined) {
          docroot = join(root, 'remote')
          mkdirSync(docroot)
          writeTree(docroot, scenario.docrootFiles)
        }
        const hostOptions: FastcgiHostOptions = { ...scenario.host, ...(docroot !== undefined ? { docroot } : {}) }
        const indexFiles = scenario.indexFiles ?? ['index.php']

        const lighttpd = await startLighttpd(t, {
          documentRoot,
          fastcgiServer: { [scenario.key]: [{ ...backend.forLighttpd, ...hostOptions } as Record<string, LighttpdValue>] },
          indexFiles,
          ...(scenario.mapExtensions !== undefined ? { mapExtensions: scenario.mapExtensions } : {})
        })
        const app: FastifyInstance = Fastify()
        t.teardown(() => app.close())
        await app.register(fastcgi, {
          documentRoot,
          indexFiles,
          server: { [scenario.key]: [{ ...backend.forPlugin, ...hostOptions }] },
          ...(scenario.mapExtensions !== undefined ? { mapExtensions: scenario.mapExtensions } : {})
        })
        const pluginUrl = await app.listen({ host: '127.0.0.1', port: 0 })

        for (const req of scenario.requests) {
          const label = `${req.method ?? 'GET'} ${req.path}`
          const [a, b] = await Promise.all([send(lighttpd.url, req), send(pluginUrl, req)])
          t.notOk(a.headers['x-executed'] ?? b.headers['x-executed'], `${label}: no upload ran as PHP`)
          if (req.statusDiffers !== undefined) {
            t.same([a.status, b.status], req.statusDiffers.slice(0, 2), `${label}: statuses differ on purpose (${req.statusDiffers[2]})`)
            continue
          }
          const wantStatus = backend.kind === 'env' ? req.envStatus ?? req.status : req.status
          t.equal(a.status, wantStatus, `${label}: lighttpd status`)
          t.equal(b.status, a.status, `${label}: same status as lighttpd`)
          if (a.status >= 300 && a.status < 400) {
            // lighttpd sends an absolute Location, the plugin a relative one: the same place
            const where = (loc: string | undefined): string => new URL(loc ?? '', `http://${HOST}`).href
            t.equal(where(b.headers.location), where(a.headers.location), `${label}: redirects to the same place`)
          }
          if (a.status !== 200 || b.status !== 200) {
            if (a.status !== 200 && b.status !== 200 && backend.kind !== 'env') {
              // an error page from PHP ("No input file specified.") is the same bytes
              if (a.status === 404 && a.headers['x-powered-by'] !== undefined) t.equal(b.body.toString(), a.body.toString(), `${label}: same PHP error body`)
            }
            continue
          }
          const ours = paramsOf(backend.kind, b)
          const theirs = paramsOf(backend.kind, a)
          const oursMap = new Map(ours)
          const theirsMap = new Map(theirs)
          const names = new Set([...theirsMap.keys(), ...oursMap.keys()])
          for (const name of [...names].sort()) {
            if (name in IGNORED) continue
            const deliberate = DELIBERATE[name]
            if (deliberate !== undefined) {
              t.equal(oursMap.get(name), deliberate.plugin(theirsMap.get(name), req.path), `${label}: ${name} differs on purpose (${deliberate.reason})`)
              if (theirsMap.get(name) !== oursMap.get(name)) {
                const set = found.get(name) ?? new Set()
                set.add(`${scenario.name}: ${label}`)
                found.set(name, set)
              }
              continue
            }
            t.equal(oursMap.get(name), theirsMap.get(name), `${label}: ${name}`)
          }
          if (backend.kind === 'env') {
            // the order of 3.1: the names both sent, in the order each sent them (headers included)
            const comparable = (list: Array<[string, string]>): string[] => list.map(([n]) => n).filter((n) => oursMap.has(n) && theirsMap.has(n))
            t.same(comparable(ours), comparable(theirs), `${label}: same param order`)
          }
        }
      })
    }
  }
  for (const [name, where] of found) t.comment(`deliberate difference ${name} seen in: ${[...where].join('; ')}`)
})
