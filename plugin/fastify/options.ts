// Public options and their validation into the config the rest of the plugin uses.
// Names are lighttpd's, camel-cased mechanically; durations are milliseconds.
// The checks of single values are in options-values.ts, those of one backend in options-host.ts.
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import type { BackendAddress } from '../client/address'
import type { BalanceAlgorithm } from '../pool/types'
import { classifyKey } from '../cgi/mapping'
import type { MappingKey } from '../cgi/mapping'
import { InvalidOptionError } from '../errors'
import { HOST_OPTIONS, PLUGIN_OPTIONS, checkKnownKeys, checkValue, isRecord, pathPart, warnIfSeconds } from './options-values'
import { normalizeHost } from './options-host'
import { checkMethods } from './mount'
import { normalizeStatusRoute } from './status-page'
import type { StatusRouteConfig, StatusRouteOptions } from './status-page'
import { defaultRemoteUser } from './hooks'
import type { HookConfig, OnBackendResponse, ParamsFunction, RemoteUserResolver, RewriteHeaders, RouteHookOptions } from './hooks'

export { camelCase, pathPart } from './options-values'
export { isLoopbackHost } from './options-host'

export interface FastcgiHostOptions {
  host?: string
  port?: number
  socket?: string
  listenBacklog?: number
  binPath?: string | string[]
  binEnvironment?: Record<string, string>
  binCopyEnvironment?: string[]
  killSignal?: NodeJS.Signals | number
  checkLocal?: boolean
  mode?: 'responder' | 'authorizer'
  docroot?: string
  minProcs?: number
  maxProcs?: number
  maxLoadPerProc?: number
  idleTimeout?: number
  disableTime?: number
  brokenScriptfilename?: boolean
  stripRequestUri?: string
  fixRootScriptname?: boolean
  xSendfile?: boolean
  /** @deprecated lighttpd's old name of xSendfile */
  allowXSendFile?: boolean
  xSendfileDocroot?: string[]
  tcpFinPropagate?: boolean
  connectTimeout?: number
  writeTimeout?: number
  readTimeout?: number
  /**
   * Beyond lighttpd (nginx's send_timeout): ms a client may take nothing of a streamed response
   * while the backend waits for it to read; then the response is cut and the backend freed
   * (default 60000; 0: wait as long as the client holds the connection)
   */
  sendTimeout?: number
  upgrade?: boolean
  /**
   * Beyond lighttpd: reuse connections (FCGI_KEEP_CONN). Default 'auto': reuse when the backend
   * answers FCGI_GET_VALUES (php-fpm, php-cgi, Go); libfcgi answers only a padded one, and its
   * multithreaded accept pattern may not read a kept connection again, so a libfcgi connection
   * is reused only once its worker answers FCGI_GET_VALUES on it after each request (the first
   * one left unanswered turns reuse off for that backend).
   */
  keepAlive?: boolean | 'auto'
  /** Idle kept connections per backend. Default 16. */
  keepAliveMaxIdle?: number
  /** ms an idle kept connection stays open. Default 5000. */
  keepAliveTimeout?: number
  /**
   * Requests in flight at once on this backend (php-fpm: pm.max_children). Default: the
   * FCGI_MAX_CONNS the backend reports when keepAlive is 'auto' and it answers (php-cgi
   * reports PHP_FCGI_CHILDREN); for a kept-connection backend that does not report it
   * (php-fpm), the capacity it is seen serving at once (a soft limit: a request waits at most
   * 1 s for it and is never refused); otherwise no cap.
   */
  maxConcurrency?: number
  /**
   * Read the whole request body before the backend is asked (default true, as nginx and
   * lighttpd): slow uploads then never hold a backend worker. false streams a body with a
   * Content-Length as it arrives (chunked bodies are always read first). Every host of one
   * mapping must agree: the body is read before a host is chosen.
   */
  requestBuffering?: boolean
  /** Requests that may wait for a slot. Default 1024. */
  queueLimit?: number
  /** ms a request may wait for a slot. Default 30000. */
  queueTimeout?: number
  /**
   * Extra CGI variables per request, sent after the computed ones: CGI names ([A-Z0-9_]) that
   * the gateway does not set itself (no HTTP_*, REMOTE_USER, ...); see docs/hooks.md.
   */
  params?: ParamsFunction
}

/** A list of unnamed backends, or named backends (the name is lighttpd's label). */
export type FastcgiMapping = FastcgiHostOptions[] | Record<string, FastcgiHostOptions>

export interface FastcgiPluginOptions {
  documentRoot?: string
  debug?: boolean
  balance?: BalanceAlgorithm
  mapExtensions?: Record<string, string>
  indexFiles?: string[]
  server: Record<string, FastcgiMapping>
  /** CGI response header block limit in bytes. Default 65536. */
  headerLimit?: number
  /** SERVER_SOFTWARE. Default `fastify-fastcgi`. */
  serverSoftware?: string
  /** SERVER_NAME; default: the request's Host without port. */
  serverName?: string
  /** Route constraints for the routes the plugin adds (for example `{ host: 'a.example' }`). */
  constraints?: Record<string, unknown>
  /** Buffered request bodies (requestBuffering, and every chunked body) are kept in memory up to this size, then in a 0600 temp file. Default 1 MiB. */
  spoolMemoryLimit?: number
  /**
   * What the buffered bodies of this registration may hold in memory together; a body that
   * would pass it goes to its temp file at once. Default 64 MiB (0: every body to a file).
   */
  spoolMemoryTotal?: number
  /** Where spooled bodies go (request bodies, and responses spooled for slow readers). Default os.tmpdir(). */
  spoolDirectory?: string
  /**
   * Bytes of one response that may go to a 0600 temp file in `spoolDirectory` when its client
   * reads slower than the backend sends (after 250 ms behind), so that the backend's worker is
   * freed; past them the backend waits for the client. Default 1 GiB (nginx's
   * fastcgi_max_temp_file_size); 0: never, a slow reader holds its worker while it reads.
   */
  responseSpoolLimit?: number
  /**
   * ms a client may send nothing of its request body (nginx's client_body_timeout, lighttpd's
   * server.max-read-idle): then 408 and its connection closed, its temp file removed, and a
   * body being streamed to a backend (requestBuffering: false) aborted there. Default 60000;
   * 0: wait as long as the client holds the connection.
   */
  clientBodyTimeout?: number
  /** ms that close() lets requests in flight finish before backends are killed. Default 5000. */
  closeGrace?: number
  /** Opt-in status route (Prometheus text, JSON or HTML); `status` is the same with route options. */
  statusUrl?: string
  /**
   * Methods the plugin's routes take besides Fastify's own (WebDAV: PROPFIND, PROPPATCH, MKCOL,
   * COPY, MOVE, LOCK, UNLOCK, REPORT, ...); those Fastify does not know are added with a body.
   */
  methods?: string[]
  /** The status route with route options: `{ url: '/fastcgi-status', preHandler: auth }` (docs/observability.md). */
  status?: StatusRouteOptions
  /** Route hooks of the plugin's routes (as @fastify/http-proxy): rate limiting, auth, caching in front of the backends. */
  onRequest?: RouteHookOptions['onRequest']
  preValidation?: RouteHookOptions['preValidation']
  preHandler?: RouteHookOptions['preHandler']
  /** The routes' `config` (read by plugins such as @fastify/rate-limit: `config: { rateLimit: { max: 10 } }`). */
  config?: Record<string, unknown>
  /** Rewrites the backend's response headers before they go out (responder answers and authorizer denials). */
  rewriteHeaders?: RewriteHeaders
  /** Called once per backend response with the backend, its status and timings (ms to first byte, total). */
  onBackendResponse?: OnBackendResponse
  /** REMOTE_USER / AUTH_TYPE for a request; default: `request.user` as Fastify's auth plugins leave it (docs/hooks.md). */
  remoteUser?: RemoteUserResolver
  /**
   * At `ready`, every remote backend is asked FCGI_GET_VALUES once: 'warn' (default) logs one
   * warning per backend that is unreachable or does not speak FastCGI, 'fail' makes `ready` fail
   * listing them, 'off' asks nothing (and spawned processes are then only checked for exiting).
   */
  startupCheck?: StartupCheck
}

export type StartupCheck = 'warn' | 'fail' | 'off'

export interface HostConfig {
  /** where the entry is written in the options (`server['.php'][0]`), for errors that name it */
  readonly optionPath: string
  readonly mappingKey: string
  readonly name: string
  readonly address: BackendAddress
  readonly spawned: boolean
  readonly binPath: readonly string[] | undefined
  readonly binEnvironment: Readonly<Record<string, string>> | undefined
  readonly binCopyEnvironment: readonly string[] | undefined
  readonly killSignal: NodeJS.Signals | number
  readonly listenBacklog: number
  readonly checkLocal: boolean
  readonly mode: 'responder' | 'authorizer'
  readonly docroot: string | undefined
  readonly minProcs: number
  readonly maxProcs: number
  readonly maxLoadPerProc: number
  readonly idleTimeout: number
  readonly disableTime: number
  readonly brokenScriptfilename: boolean
  readonly stripRequestUri: string | undefined
  readonly fixRootScriptname: boolean
  readonly xSendfile: boolean
  readonly xSendfileDocroot: readonly string[] | undefined
  readonly tcpFinPropagate: boolean
  readonly connectTimeout: number
  readonly writeTimeout: number
  readonly sendTimeout: number
  readonly readTimeout: number
  readonly upgrade: boolean
  readonly keepAlive: boolean | 'auto'
  readonly keepAliveMaxIdle: number
  readonly keepAliveTimeout: number
  readonly maxConcurrency: number | 'auto'
  readonly requestBuffering: boolean
  readonly queueLimit: number
  readonly queueTimeout: number
  readonly params: ParamsFunction | undefined
}

export interface MappingConfig extends MappingKey {
  readonly hosts: readonly HostConfig[]
}

export interface FastcgiConfig {
  readonly documentRoot: string
  readonly debug: boolean
  readonly balance: BalanceAlgorithm
  readonly mapExtensions: ReadonlyMap<string, string>
  readonly indexFiles: readonly string[]
  readonly mappings: readonly MappingConfig[]
  readonly headerLimit: number
  readonly serverSoftware: string
  readonly serverName: string | undefined
  readonly constraints: Record<string, unknown> | undefined
  readonly spoolMemoryLimit: number
  readonly spoolMemoryTotal: number
  readonly spoolDirectory: string
  readonly responseSpoolLimit: number
  readonly clientBodyTimeout: number
  readonly closeGrace: number
  readonly statusUrl: string | undefined
  /** extra methods of the routes (options.methods), checked against Node's parser */
  readonly methods: readonly string[]
  /** the status route from statusUrl or status; undefined: none */
  readonly statusRoute: StatusRouteConfig | undefined
  readonly hooks: HookConfig
  readonly startupCheck: StartupCheck
  /** Durations that look like seconds (lighttpd's unit) where ms are expected. */
  readonly warnings: readonly string[]
}

/** Validates the options; throws FST_FASTCGI_INVALID_OPTION naming the option's path. */
export function normalizeOptions (options: unknown): FastcgiConfig {
  if (!isRecord(options)) throw new InvalidOptionError('options must be an object')
  // fastify's own register options (prefix, logLevel, ...) arrive here too
  const fastifyKeys = ['prefix', 'logLevel', 'logSerializers']
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => !fastifyKeys.includes(key)))
  checkKnownKeys('options', own, Object.keys(PLUGIN_OPTIONS), 'an option')
  for (const [key, value] of Object.entries(own)) {
    const kind = PLUGIN_OPTIONS[key as keyof FastcgiPluginOptions]
    if (value !== undefined && kind !== 'object') checkValue(key, kind, value)
  }
  const o = own as unknown as FastcgiPluginOptions
  if (!isRecord(o.server) || Object.keys(o.server).length === 0) {
    throw new InvalidOptionError(`server must map at least one extension or prefix to its backends: expected { '.php': [{ socket: '/run/php/php-fpm.sock' }] } or similar, got ${JSON.stringify(o.server)}`)
  }
  if (o.constraints !== undefined && !isRecord(o.constraints)) throw new InvalidOptionError(`constraints must be an object of Fastify route constraints, got ${JSON.stringify(o.constraints)}`)
  const statusRoute = normalizeStatusRoute(o.statusUrl, o.status)
  o.indexFiles?.forEach((name, i) => {
    if (name === '') throw new InvalidOptionError(`indexFiles[${i}] is empty: expected a file name such as 'index.php'`)
  })
  for (const [from, to] of Object.entries(o.mapExtensions ?? {})) {
    if (!(to in o.server)) {
      throw new InvalidOptionError(`mapExtensions${pathPart(from)} maps to ${JSON.stringify(to)}, which is not a key of server: expected one of ${Object.keys(o.server).map((k) => JSON.stringify(k)).join(', ')}`)
    }
  }
  const warnings: string[] = []
  warnIfSeconds(warnings, 'closeGrace', o.closeGrace)
  warnIfSeconds(warnings, 'clientBodyTimeout', o.clientBodyTimeout)
  const mappings: MappingConfig[] = []
  const hostPaths = new Map<HostConfig, string>()
  for (const [key, value] of Object.entries(o.server)) {
    const { mapping, paths } = normalizeMapping(key, value, warnings)
    mappings.push(mapping)
    mapping.hosts.forEach((host, i) => hostPaths.set(host, paths[i] as string))
  }
  checkSpawnedSockets(hostPaths)
  const mapExtensions = new Map(Object.entries(o.mapExtensions ?? {}))
  const documentRoot = resolveDocumentRoot(o.documentRoot, hostPaths)
  return {
    documentRoot,
    debug: o.debug ?? false,
    balance: o.balance ?? 'least-connection',
    mapExtensions,
    indexFiles: o.indexFiles ?? [],
    mappings,
    headerLimit: o.headerLimit ?? 65536,
    serverSoftware: o.serverSoftware ?? 'fastify-fastcgi',
    serverName: o.serverName,
    constraints: o.constraints,
    spoolMemoryLimit: o.spoolMemoryLimit ?? 1024 * 1024,
    spoolMemoryTotal: o.spoolMemoryTotal ?? 64 * 1024 * 1024,
    spoolDirectory: o.spoolDirectory ?? os.tmpdir(),
    responseSpoolLimit: o.responseSpoolLimit ?? 1024 * 1024 * 1024,
    clientBodyTimeout: o.clientBodyTimeout ?? 60000,
    closeGrace: o.closeGrace ?? 5000,
    methods: checkMethods(o.methods),
    statusUrl: statusRoute?.url,
    statusRoute,
    hooks: hookConfig(o),
    startupCheck: o.startupCheck ?? 'warn',
    warnings
  }
}

function hookConfig (o: FastcgiPluginOptions): HookConfig {
  if (o.config !== undefined && !isRecord(o.config)) throw new InvalidOptionError(`config must be an object (the routes' config, such as { rateLimit: { max: 10 } }), got ${JSON.stringify(o.config)}`)
  const routeOptions: RouteHookOptions = {
    ...(o.onRequest === undefined ? {} : { onRequest: o.onRequest }),
    ...(o.preValidation === undefined ? {} : { preValidation: o.preValidation }),
    ...(o.preHandler === undefined ? {} : { preHandler: o.preHandler }),
    ...(o.config === undefined ? {} : { config: o.config })
  }
  return { routeOptions, rewriteHeaders: o.rewriteHeaders, onBackendResponse: o.onBackendResponse, remoteUser: o.remoteUser ?? defaultRemoteUser }
}

/**
 * One key of `server` and its backends. Backends given as a list are named after the key and
 * their position (`.php#0`), so that logs and stats() keys tell them apart.
 */
function normalizeMapping (key: string, value: unknown, warnings: string[]): { mapping: MappingConfig, paths: string[] } {
  if (key === '') throw new InvalidOptionError("server[''] is not an extension or a prefix: expected a key like '.php' or '/app/'")
  const where = `server${pathPart(key)}`
  const entries: Array<{ name: string, raw: unknown, where: string }> = Array.isArray(value)
    ? value.map((raw: unknown, i) => ({ name: `${key}#${i}`, raw, where: `${where}${pathPart(i)}` }))
    : isRecord(value)
      ? Object.entries(value).map(([name, raw]) => ({ name, raw, where: `${where}${pathPart(name)}` }))
      : []
  if (entries.length === 0) throw new InvalidOptionError(`${where} must list at least one backend: expected [{ ...host options }] or { name: { ...host options } }, got ${JSON.stringify(value)}`)
  if (!Array.isArray(value) && isRecord(value) && Object.keys(value).some((k) => k in HOST_OPTIONS)) {
    throw new InvalidOptionError(`${where} holds host options directly; wrap them in an array ([{ ... }]) or give the backend a name ({ app: { ... } })`)
  }
  const hosts = entries.map((entry) => normalizeHost(entry.where, key, entry.name, entry.raw, warnings))
  const first = hosts[0] as HostConfig
  hosts.forEach((host, i) => {
    if (host.requestBuffering !== first.requestBuffering) {
      throw new InvalidOptionError(`${(entries[i] as { where: string }).where}.requestBuffering is ${String(host.requestBuffering)} but ${(entries[0] as { where: string }).where} buffers ${first.requestBuffering ? '(the default)' : 'not'}: expected the same requestBuffering on every host of ${where} (the body is read before a host is chosen)`)
    }
  })
  return { mapping: { ...classifyKey(key), hosts }, paths: entries.map((entry) => entry.where) }
}

/** Two spawned programs cannot bind one socket path. */
function checkSpawnedSockets (hostPaths: ReadonlyMap<HostConfig, string>): void {
  const spawnedSockets = new Map<string, { where: string, binPath: readonly string[] }>()
  for (const [host, hostWhere] of hostPaths) {
    if (!host.spawned || host.address.kind !== 'unix') continue
    const socket = host.address.path
    const previous = spawnedSockets.get(socket)
    if (previous !== undefined && previous.binPath.join(' ') !== (host.binPath ?? []).join(' ')) {
      throw new InvalidOptionError(`${hostWhere}.socket ${JSON.stringify(socket)} is already used by ${previous.where} with a different binPath: expected one socket path per spawned program`)
    }
    spawnedSockets.set(socket, { where: hostWhere, binPath: host.binPath ?? [] })
  }
}

/**
 * documentRoot has no default: a default (the working directory) would make any script beside
 * the application runnable. It is needed by every host that looks for local files
 * (checkLocal) or builds SCRIPT_FILENAME from it (no docroot of its own); a relative one is
 * taken from the working directory; checked local files need it to exist.
 */
function resolveDocumentRoot (given: string | undefined, hostPaths: ReadonlyMap<HostConfig, string>): string {
  const hosts = [...hostPaths.keys()]
  const checker = hosts.find((host) => host.checkLocal)
  if (given === undefined) {
    const user = checker ?? hosts.find((host) => host.docroot === undefined)
    if (user !== undefined) {
      const why = user.checkLocal ? 'looks for scripts in it (checkLocal, the default)' : 'builds SCRIPT_FILENAME from it (it has no docroot)'
      throw new InvalidOptionError(`documentRoot is required: ${hostPaths.get(user) as string} ${why}; expected documentRoot: '/srv/www' (the directory of your scripts), or checkLocal: false and a docroot on every backend`)
    }
    // every host has its own docroot and checks nothing locally; the first one stands in
    return (hosts[0] as HostConfig).docroot as string
  }
  if (given === '') throw new InvalidOptionError("documentRoot is empty: expected the directory of your scripts, such as '/srv/www'")
  const resolved = path.resolve(given)
  if (checker === undefined) return resolved
  let stat: fs.Stats
  try {
    stat = fs.statSync(resolved)
  } catch {
    const relative = path.isAbsolute(given) ? '' : ` (${JSON.stringify(given)} is taken from the working directory ${process.cwd()})`
    throw new InvalidOptionError(`documentRoot ${JSON.stringify(resolved)} does not exist${relative}: expected an existing directory (${hostPaths.get(checker) as string} looks for scripts in it); create it, or set documentRoot to the absolute path of your scripts' directory`)
  }
  if (!stat.isDirectory()) throw new InvalidOptionError(`documentRoot ${JSON.stringify(resolved)} is not a directory: expected the directory of your scripts`)
  return resolved
}
