// Public options and their validation into the config the rest of the plugin uses.
// Names are lighttpd's, camel-cased mechanically; durations are milliseconds.
import path from 'node:path'
import os from 'node:os'
import type { BackendAddress } from '../client/address'
import type { BalanceAlgorithm } from '../pool/types'
import { classifyKey } from '../cgi/mapping'
import type { MappingKey } from '../cgi/mapping'
import { InvalidOptionError } from '../errors'
import { closestName } from '../did-you-mean'
import { normalizeStatusRoute } from './status-page'
import type { StatusRouteConfig, StatusRouteOptions } from './status-page'

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
  upgrade?: boolean
  /**
   * Beyond lighttpd: reuse connections (FCGI_KEEP_CONN). Default 'auto': reuse when the backend
   * answers FCGI_GET_VALUES (php-fpm, php-cgi, Go); libfcgi does not answer, and its
   * multithreaded accept pattern stalls on kept connections, so it gets one per request.
   */
  keepAlive?: boolean | 'auto'
  /** Idle kept connections per backend. Default 16. */
  keepAliveMaxIdle?: number
  /** ms an idle kept connection stays open. Default 5000. */
  keepAliveTimeout?: number
  /**
   * Requests in flight at once on this backend (php-fpm: pm.max_children). Default: the
   * FCGI_MAX_CONNS the backend reports when keepAlive is 'auto' and it answers (php-cgi
   * reports PHP_FCGI_CHILDREN), otherwise no cap.
   */
  maxConcurrency?: number
  /** Requests that may wait for a slot. Default 1024. */
  queueLimit?: number
  /** ms a request may wait for a slot. Default 30000. */
  queueTimeout?: number
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
  /** Request bodies of unknown length are kept in memory up to this size, then in a temp file. Default 1 MiB. */
  spoolMemoryLimit?: number
  /** Where spooled bodies go. Default os.tmpdir(). */
  spoolDirectory?: string
  /** ms that close() lets requests in flight finish before backends are killed. Default 5000. */
  closeGrace?: number
  /** Opt-in status route (Prometheus text, JSON or HTML); `status` is the same with route options. */
  statusUrl?: string
  /** The status route with route options: `{ url: '/fastcgi-status', preHandler: auth }` (docs/observability.md). */
  status?: StatusRouteOptions
}

export interface HostConfig {
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
  readonly readTimeout: number
  readonly upgrade: boolean
  readonly keepAlive: boolean | 'auto'
  readonly keepAliveMaxIdle: number
  readonly keepAliveTimeout: number
  readonly maxConcurrency: number | 'auto'
  readonly queueLimit: number
  readonly queueTimeout: number
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
  readonly spoolDirectory: string
  readonly closeGrace: number
  readonly statusUrl: string | undefined
  /** the status route from statusUrl or status; undefined: none */
  readonly statusRoute: StatusRouteConfig | undefined
  /** Durations that look like seconds (lighttpd's unit) where ms are expected. */
  readonly warnings: readonly string[]
}

type Kind = 'string' | 'boolean' | 'keepAlive' | 'count' | 'port' | 'duration' | 'stringList' | 'stringMap' | 'argv' | 'signal' | 'mode' | 'balance'

const HOST_OPTIONS: Record<keyof FastcgiHostOptions, Kind> = {
  host: 'string',
  port: 'port',
  socket: 'string',
  listenBacklog: 'count',
  binPath: 'argv',
  binEnvironment: 'stringMap',
  binCopyEnvironment: 'stringList',
  killSignal: 'signal',
  checkLocal: 'boolean',
  mode: 'mode',
  docroot: 'string',
  minProcs: 'count',
  maxProcs: 'count',
  maxLoadPerProc: 'count',
  idleTimeout: 'duration',
  disableTime: 'duration',
  brokenScriptfilename: 'boolean',
  stripRequestUri: 'string',
  fixRootScriptname: 'boolean',
  xSendfile: 'boolean',
  allowXSendFile: 'boolean',
  xSendfileDocroot: 'stringList',
  tcpFinPropagate: 'boolean',
  connectTimeout: 'duration',
  writeTimeout: 'duration',
  readTimeout: 'duration',
  upgrade: 'boolean',
  keepAlive: 'keepAlive',
  keepAliveMaxIdle: 'count',
  keepAliveTimeout: 'duration',
  maxConcurrency: 'count',
  queueLimit: 'count',
  queueTimeout: 'duration'
}

const PLUGIN_OPTIONS: Record<keyof FastcgiPluginOptions, Kind | 'object'> = {
  documentRoot: 'string',
  debug: 'boolean',
  balance: 'balance',
  mapExtensions: 'stringMap',
  indexFiles: 'stringList',
  server: 'object',
  headerLimit: 'count',
  serverSoftware: 'string',
  serverName: 'string',
  constraints: 'object',
  spoolMemoryLimit: 'count',
  spoolDirectory: 'string',
  closeGrace: 'duration',
  status: 'object',
  statusUrl: 'string'
}

const BALANCE: readonly BalanceAlgorithm[] = ['fair', 'least-connection', 'round-robin', 'hash', 'sticky']

/** `bin-path` -> `binPath`, `allow-x-send-file` -> `allowXSendFile` */
export function camelCase (name: string): string {
  return name.replace(/[-_]+([a-zA-Z])/g, (_m, c: string) => c.toUpperCase())
}

/** `.binPath` for an identifier, `['.php']` otherwise: how the option is written in JavaScript. */
export function pathPart (key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `.${key}`
  return `['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`
}

const LOOPBACK_HOSTS = ['localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1']

/** 127.0.0.0/8, ::1, localhost: where a backend the plugin spawns may listen. */
export function isLoopbackHost (host: string): boolean {
  if (LOOPBACK_HOSTS.includes(host.toLowerCase())) return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host)
}

function suggest (name: string, known: readonly string[]): string {
  const best = closestName(camelCase(name), known)
  return best === undefined ? '' : `; did you mean ${best}?`
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkValue (where: string, kind: Kind, value: unknown): void {
  const fail = (expected: string): never => {
    throw new InvalidOptionError(`${where} must be ${expected}, got ${JSON.stringify(value)}`)
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') fail('a string')
      return
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false')
      return
    case 'keepAlive':
      if (typeof value !== 'boolean' && value !== 'auto') fail("true, false or 'auto'")
      return
    case 'count':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        if (value !== Infinity) fail('a whole number >= 0')
      }
      return
    case 'port':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) fail('a port number from 1 to 65535')
      return
    case 'duration':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('a duration in milliseconds (a number >= 0)')
      return
    case 'stringList':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail('an array of strings')
      return
    case 'stringMap':
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) fail('an object of strings')
      return
    case 'argv':
      if (!(typeof value === 'string' && value.trim() !== '') && !(Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))) fail('a command line (a string, or an array of strings)')
      return
    case 'signal':
      if (!(typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65) && !(typeof value === 'string' && value in os.constants.signals)) fail('a signal name (SIGTERM) or number')
      return
    case 'mode':
      if (value !== 'responder' && value !== 'authorizer') fail("'responder' or 'authorizer'")
      return
    case 'balance':
      if (!BALANCE.includes(value as BalanceAlgorithm)) fail(BALANCE.map((b) => `'${b}'`).join(', '))
  }
}

function checkKnownKeys (where: string, value: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const hint = suggest(key, known)
      throw new InvalidOptionError(`${where}${pathPart(key)} is not ${what}${hint === '' ? ` (expected one of: ${known.join(', ')})` : hint}`)
    }
  }
}

function warnIfSeconds (warnings: string[], where: string, value: number | undefined): void {
  if (value !== undefined && value > 0 && value < 100) {
    warnings.push(`${where} is ${value} ms; durations are in milliseconds (lighttpd's are seconds): did you mean ${value * 1000}?`)
  }
}

function normalizeHost (where: string, mappingKey: string, name: string, raw: unknown, warnings: string[]): HostConfig {
  if (!isRecord(raw)) throw new InvalidOptionError(`${where} must be an object of host options ({ socket } or { host, port }, ...), got ${JSON.stringify(raw)}`)
  const hostKeys = Object.keys(HOST_OPTIONS)
  checkKnownKeys(where, raw, hostKeys, 'a host option')
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) checkValue(`${where}${pathPart(key)}`, HOST_OPTIONS[key as keyof FastcgiHostOptions], value)
  }
  const o = raw as FastcgiHostOptions
  if (o.socket !== undefined && (o.host !== undefined || o.port !== undefined)) {
    throw new InvalidOptionError(`${where} sets both socket and ${o.host !== undefined ? 'host' : 'port'}: expected either socket (a unix socket) or host and port (TCP), not both`)
  }
  if (o.host !== undefined && o.host.startsWith('/') && o.port !== undefined) {
    throw new InvalidOptionError(`${where}.host is a path (${JSON.stringify(o.host)}) but port is set too: expected socket for a unix socket, or an IP address in host`)
  }
  const binPath = o.binPath === undefined ? undefined : typeof o.binPath === 'string' ? o.binPath.trim().split(/[ \t]+/) : o.binPath
  const spawned = binPath !== undefined
  let address: BackendAddress
  if (o.socket !== undefined && o.socket !== '') {
    if (Buffer.byteLength(o.socket) + (spawned ? 4 : 0) > 107) throw new InvalidOptionError(`${where}.socket is too long for a unix socket path: expected at most ${spawned ? 103 : 107} bytes, got ${Buffer.byteLength(o.socket)}`)
    address = { kind: 'unix', path: o.socket }
  } else if (o.host !== undefined && o.host.startsWith('/') && o.port === undefined) {
    address = { kind: 'unix', path: o.host }
  } else {
    if (o.host === undefined && !spawned) throw new InvalidOptionError(`${where} has no address: expected socket, or host and port, or binPath (the plugin spawns the backend)`)
    if (o.port === undefined) throw new InvalidOptionError(`${where}.port must be set for a TCP backend: expected a port number from 1 to 65535`)
    if (spawned && o.host !== undefined && !isLoopbackHost(o.host)) {
      throw new InvalidOptionError(`${where}.host is ${JSON.stringify(o.host)}, but binPath spawns the backend on this machine: expected a loopback address (127.0.0.1, ::1, localhost) or no host; for a backend on another machine drop binPath`)
    }
    address = { kind: 'tcp', host: o.host ?? '127.0.0.1', port: o.port }
  }
  const maxProcs = spawned ? (o.maxProcs ?? 4) : 1
  const minProcs = spawned ? Math.min(o.minProcs ?? maxProcs, maxProcs) : 1
  if (!spawned) {
    for (const key of ['binEnvironment', 'binCopyEnvironment', 'minProcs', 'maxProcs', 'killSignal'] as const) {
      if (o[key] !== undefined) throw new InvalidOptionError(`${where}.${key} needs binPath: it only applies to backends the plugin spawns (expected binPath, or no ${key})`)
    }
  } else {
    if (o.maxProcs === 0) throw new InvalidOptionError(`${where}.maxProcs is 0: expected at least 1 process to spawn`)
    if (o.minProcs !== undefined && o.minProcs > maxProcs) {
      throw new InvalidOptionError(`${where}.minProcs (${o.minProcs}) is greater than maxProcs (${maxProcs}): expected minProcs <= maxProcs`)
    }
  }
  const mode = o.mode ?? 'responder'
  if (mode === 'authorizer') {
    for (const key of ['xSendfile', 'allowXSendFile'] as const) {
      if (o[key] === true) throw new InvalidOptionError(`${where}.${key} is true on an authorizer: expected xSendfile only on responders (an authorizer's answer is never a file to send)`)
    }
  }
  if (o.xSendfileDocroot !== undefined) {
    if (o.xSendfile !== true && o.allowXSendFile !== true) {
      throw new InvalidOptionError(`${where}.xSendfileDocroot is set but xSendfile is not true: expected xSendfile: true with it (or no xSendfileDocroot)`)
    }
    for (const dir of o.xSendfileDocroot) {
      if (!dir.startsWith('/')) throw new InvalidOptionError(`${where}.xSendfileDocroot entries must be absolute paths (starting with /), got ${JSON.stringify(dir)}`)
    }
  }
  if (o.fixRootScriptname === true && (mappingKey !== '/' || o.checkLocal !== false)) {
    warnings.push(`${where}.fixRootScriptname has no effect: it applies only to the '/' prefix with checkLocal: false`)
  }
  if (o.upgrade === true) {
    // accepted, as lighttpd 1.4.69 accepts it, so that its configurations still load; said
    // out loud, because a websocket endpoint that silently does not work is worse
    warnings.push(`${where}.upgrade has no effect: HTTP Upgrade (websocket) tunnelling through FastCGI is not supported; an Upgrade request reaches the backend as an ordinary request`)
  }
  for (const key of ['disableTime', 'idleTimeout', 'connectTimeout', 'readTimeout', 'writeTimeout', 'keepAliveTimeout', 'queueTimeout'] as const) {
    warnIfSeconds(warnings, `${where}.${key}`, o[key])
  }
  const strip = o.stripRequestUri === undefined || o.stripRequestUri === '' ? undefined : o.stripRequestUri.replace(/\/$/, '')
  return {
    mappingKey,
    name,
    address,
    spawned,
    binPath,
    binEnvironment: o.binEnvironment,
    binCopyEnvironment: o.binCopyEnvironment === undefined || o.binCopyEnvironment.length === 0 ? undefined : o.binCopyEnvironment,
    killSignal: o.killSignal ?? 'SIGTERM',
    listenBacklog: o.listenBacklog ?? 1024,
    checkLocal: o.checkLocal ?? true,
    mode,
    docroot: o.docroot === '' ? undefined : o.docroot,
    minProcs,
    maxProcs,
    maxLoadPerProc: o.maxLoadPerProc ?? 1,
    idleTimeout: o.idleTimeout ?? 60_000,
    disableTime: o.disableTime ?? 1000,
    brokenScriptfilename: o.brokenScriptfilename ?? false,
    stripRequestUri: strip,
    fixRootScriptname: o.fixRootScriptname ?? false,
    xSendfile: o.xSendfile ?? o.allowXSendFile ?? false,
    xSendfileDocroot: o.xSendfileDocroot,
    tcpFinPropagate: o.tcpFinPropagate ?? false,
    connectTimeout: o.connectTimeout ?? 8000,
    writeTimeout: o.writeTimeout ?? 60_000,
    readTimeout: o.readTimeout ?? 60_000,
    upgrade: o.upgrade ?? false,
    keepAlive: o.keepAlive ?? 'auto',
    keepAliveMaxIdle: o.keepAliveMaxIdle ?? 16,
    keepAliveTimeout: o.keepAliveTimeout ?? 5000,
    maxConcurrency: o.maxConcurrency ?? 'auto',
    queueLimit: o.queueLimit ?? 1024,
    queueTimeout: o.queueTimeout ?? 30_000
  }
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
  const mappings: MappingConfig[] = []
  const spawnedSockets = new Map<string, { where: string, binPath: readonly string[] }>()
  for (const [key, value] of Object.entries(o.server)) {
    if (key === '') throw new InvalidOptionError("server[''] is not an extension or a prefix: expected a key like '.php' or '/app/'")
    const where = `server${pathPart(key)}`
    const entries: Array<[string, unknown, string]> = Array.isArray(value)
      ? value.map((host, i) => ['', host, `${where}${pathPart(i)}`])
      : isRecord(value)
        ? Object.entries(value).map(([name, host]) => [name, host, `${where}${pathPart(name)}`])
        : []
    if (entries.length === 0) throw new InvalidOptionError(`${where} must list at least one backend: expected [{ ...host options }] or { name: { ...host options } }, got ${JSON.stringify(value)}`)
    if (!Array.isArray(value) && isRecord(value) && Object.keys(value).some((k) => k in HOST_OPTIONS)) {
      throw new InvalidOptionError(`${where} holds host options directly; wrap them in an array ([{ ... }]) or give the backend a name ({ app: { ... } })`)
    }
    const hosts = entries.map(([name, host, hostWhere]) => normalizeHost(hostWhere, key, name, host, warnings))
    hosts.forEach((host, i) => {
      const hostWhere = (entries[i] as [string, unknown, string])[2]
      if (!host.spawned || host.address.kind !== 'unix') return
      const path = host.address.path
      const previous = spawnedSockets.get(path)
      if (previous !== undefined && previous.binPath.join(' ') !== (host.binPath ?? []).join(' ')) {
        throw new InvalidOptionError(`${hostWhere}.socket ${JSON.stringify(path)} is already used by ${previous.where} with a different binPath: expected one socket path per spawned program`)
      }
      spawnedSockets.set(path, { where: hostWhere, binPath: host.binPath ?? [] })
    })
    mappings.push({ ...classifyKey(key), hosts })
  }
  const mapExtensions = new Map(Object.entries(o.mapExtensions ?? {}))
  const documentRoot = path.resolve(o.documentRoot ?? process.cwd())
  return {
    documentRoot: o.documentRoot ?? documentRoot,
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
    spoolDirectory: o.spoolDirectory ?? os.tmpdir(),
    closeGrace: o.closeGrace ?? 5000,
    statusUrl: statusRoute?.url,
    statusRoute,
    warnings
  }
}
