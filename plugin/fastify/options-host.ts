// One backend entry of `server`, validated in steps: its address, what the plugin spawns, what
// its role allows, then the defaults.
import type { BackendAddress } from '../client/address'
import { InvalidOptionError } from '../errors'
import type { FastcgiHostOptions, HostConfig } from './options'
import { HOST_OPTIONS, checkKnownKeys, checkValue, isRecord, pathPart, warnIfSeconds } from './options-values'

const LOOPBACK_HOSTS = ['localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1']

/** 127.0.0.0/8, ::1, localhost: where a backend the plugin spawns may listen. */
export function isLoopbackHost (host: string): boolean {
  if (LOOPBACK_HOSTS.includes(host.toLowerCase())) return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host)
}

/** Known keys and their value kinds; the entry then reads as host options. */
function checkHostValues (where: string, raw: unknown): FastcgiHostOptions {
  if (!isRecord(raw)) throw new InvalidOptionError(`${where} must be an object of host options ({ socket } or { host, port }, ...), got ${JSON.stringify(raw)}`)
  checkKnownKeys(where, raw, Object.keys(HOST_OPTIONS), 'a host option')
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) checkValue(`${where}${pathPart(key)}`, HOST_OPTIONS[key as keyof FastcgiHostOptions], value)
  }
  return raw
}

/** What the port of `host:port` written in host means, as an option to write instead. */
function portHint (port: string | undefined, o: FastcgiHostOptions): string {
  return port === undefined || port === '' || o.port !== undefined ? '' : `, port: ${Number(port)}`
}

/**
 * Notations other servers use for an address, each refused with what to write instead: nginx's
 * `unix:/run/php.sock`, a URL (`http://127.0.0.1:9000`, `tcp://...`), `127.0.0.1:9000` in host.
 */
function checkAddressNotation (where: string, o: FastcgiHostOptions): void {
  for (const key of ['socket', 'host'] as const) {
    const value = o[key]
    if (value?.startsWith('unix:') !== true) continue
    const socketPath = value.slice('unix:'.length).replace(/^\/\/(?=\/)/, '')
    throw new InvalidOptionError(`${where}.${key} is ${JSON.stringify(value)}, with nginx's 'unix:' prefix: expected the path alone, write socket: '${socketPath}'`)
  }
  const host = o.host
  if (host === undefined || host.startsWith('/')) return
  const url = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:]*)(?::(\d*))?\/?$/i.exec(host)
  if (url !== null) {
    const address = (url[2] ?? '').replace(/^\[(.*)\]$/, '$1')
    throw new InvalidOptionError(`${where}.host is ${JSON.stringify(host)}, a URL: expected the address alone (FastCGI is not HTTP, there is no scheme), write host: '${address}'${portHint(url[3], o)}`)
  }
  const withPort = /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(host)
  if (withPort !== null) {
    const address = (withPort[1] ?? '').replace(/^\[(.*)\]$/, '$1')
    throw new InvalidOptionError(`${where}.host is ${JSON.stringify(host)}, with a port in it: expected the address alone, write host: '${address}'${portHint(withPort[2], o)}`)
  }
}

/** A unix socket (`socket`, or a path in `host`) or TCP (`host` and `port`; a spawned one on loopback). */
function hostAddress (where: string, o: FastcgiHostOptions, spawned: boolean): BackendAddress {
  checkAddressNotation(where, o)
  if (o.socket !== undefined && (o.host !== undefined || o.port !== undefined)) {
    throw new InvalidOptionError(`${where} sets both socket and ${o.host !== undefined ? 'host' : 'port'}: expected either socket (a unix socket) or host and port (TCP), not both`)
  }
  if (o.host !== undefined && o.host.startsWith('/') && o.port !== undefined) {
    throw new InvalidOptionError(`${where}.host is a path (${JSON.stringify(o.host)}) but port is set too: expected socket for a unix socket, or an IP address in host`)
  }
  if (o.socket !== undefined && o.socket !== '') {
    // the spawner binds `<socket>-<n>`, up to 4 bytes more
    if (Buffer.byteLength(o.socket) + (spawned ? 4 : 0) > 107) throw new InvalidOptionError(`${where}.socket is too long for a unix socket path: expected at most ${spawned ? 103 : 107} bytes, got ${Buffer.byteLength(o.socket)}`)
    return { kind: 'unix', path: o.socket }
  }
  if (o.host !== undefined && o.host.startsWith('/') && o.port === undefined) return { kind: 'unix', path: o.host }
  if (o.host === undefined && !spawned) throw new InvalidOptionError(`${where} has no address: expected socket, or host and port, or binPath (the plugin spawns the backend)`)
  if (o.port === undefined) throw new InvalidOptionError(`${where}.port must be set for a TCP backend: expected a port number from 1 to 65535`)
  if (spawned && o.host !== undefined && !isLoopbackHost(o.host)) {
    throw new InvalidOptionError(`${where}.host is ${JSON.stringify(o.host)}, but binPath spawns the backend on this machine: expected a loopback address (127.0.0.1, ::1, localhost) or no host; for a backend on another machine drop binPath`)
  }
  return { kind: 'tcp', host: o.host ?? '127.0.0.1', port: o.port }
}

interface SpawnSettings {
  readonly binPath: readonly string[] | undefined
  readonly minProcs: number
  readonly maxProcs: number
}

/** binPath and the process counts; the spawn-only options without binPath are refused. */
function spawnSettings (where: string, o: FastcgiHostOptions): SpawnSettings {
  const binPath = o.binPath === undefined ? undefined : typeof o.binPath === 'string' ? o.binPath.trim().split(/[ \t]+/) : o.binPath
  if (binPath === undefined) {
    for (const key of ['binEnvironment', 'binCopyEnvironment', 'minProcs', 'maxProcs', 'killSignal'] as const) {
      if (o[key] !== undefined) throw new InvalidOptionError(`${where}.${key} needs binPath: it only applies to backends the plugin spawns (expected binPath, or no ${key})`)
    }
    return { binPath, minProcs: 1, maxProcs: 1 }
  }
  if (o.maxProcs === 0) throw new InvalidOptionError(`${where}.maxProcs is 0: expected at least 1 process to spawn`)
  const maxProcs = o.maxProcs ?? 4
  if (o.minProcs !== undefined && o.minProcs > maxProcs) {
    throw new InvalidOptionError(`${where}.minProcs (${o.minProcs}) is greater than maxProcs (${maxProcs}): expected minProcs <= maxProcs`)
  }
  return { binPath, minProcs: Math.min(o.minProcs ?? maxProcs, maxProcs), maxProcs }
}

/** Options that contradict the role or each other, and those accepted only to be warned about. */
function checkCombinations (where: string, mappingKey: string, o: FastcgiHostOptions, warnings: string[]): void {
  if ((o.mode ?? 'responder') === 'authorizer') {
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
  for (const key of ['disableTime', 'idleTimeout', 'connectTimeout', 'readTimeout', 'writeTimeout', 'sendTimeout', 'keepAliveTimeout', 'queueTimeout'] as const) {
    warnIfSeconds(warnings, `${where}.${key}`, o[key])
  }
}

/** The host options with every default filled in. */
function withDefaults (o: FastcgiHostOptions, identity: Pick<HostConfig, 'optionPath' | 'mappingKey' | 'name' | 'address'>, spawn: SpawnSettings): HostConfig {
  return {
    ...identity,
    spawned: spawn.binPath !== undefined,
    binPath: spawn.binPath,
    binEnvironment: o.binEnvironment,
    binCopyEnvironment: o.binCopyEnvironment === undefined || o.binCopyEnvironment.length === 0 ? undefined : o.binCopyEnvironment,
    killSignal: o.killSignal ?? 'SIGTERM',
    params: o.params,
    listenBacklog: o.listenBacklog ?? 1024,
    checkLocal: o.checkLocal ?? true,
    mode: o.mode ?? 'responder',
    docroot: o.docroot === '' ? undefined : o.docroot,
    minProcs: spawn.minProcs,
    maxProcs: spawn.maxProcs,
    maxLoadPerProc: o.maxLoadPerProc ?? 1,
    idleTimeout: o.idleTimeout ?? 60_000,
    disableTime: o.disableTime ?? 1000,
    brokenScriptfilename: o.brokenScriptfilename ?? false,
    stripRequestUri: o.stripRequestUri === undefined || o.stripRequestUri === '' ? undefined : o.stripRequestUri.replace(/\/$/, ''),
    fixRootScriptname: o.fixRootScriptname ?? false,
    xSendfile: o.xSendfile ?? o.allowXSendFile ?? false,
    xSendfileDocroot: o.xSendfileDocroot,
    tcpFinPropagate: o.tcpFinPropagate ?? false,
    connectTimeout: o.connectTimeout ?? 8000,
    writeTimeout: o.writeTimeout ?? 60_000,
    sendTimeout: o.sendTimeout ?? 60_000,
    readTimeout: o.readTimeout ?? 60_000,
    upgrade: o.upgrade ?? false,
    keepAlive: o.keepAlive ?? 'auto',
    keepAliveMaxIdle: o.keepAliveMaxIdle ?? 16,
    keepAliveTimeout: o.keepAliveTimeout ?? 5000,
    maxConcurrency: o.maxConcurrency ?? 'auto',
    requestBuffering: o.requestBuffering ?? true,
    queueLimit: o.queueLimit ?? 1024,
    queueTimeout: o.queueTimeout ?? 30_000
  }
}

/** Validates one backend entry (`where` is its path, for messages) into its config. */
export function normalizeHost (where: string, mappingKey: string, name: string, raw: unknown, warnings: string[]): HostConfig {
  const o = checkHostValues(where, raw)
  const address = hostAddress(where, o, o.binPath !== undefined)
  const spawn = spawnSettings(where, o)
  checkCombinations(where, mappingKey, o, warnings)
  return withDefaults(o, { optionPath: where, mappingKey, name, address }, spawn)
}
