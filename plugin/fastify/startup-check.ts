// The start-up check (startupCheck): at `ready`, every remote backend (one the plugin does not
// spawn) is asked FCGI_GET_VALUES once, all at once, each within its connectTimeout. A backend
// that cannot be reached or does not speak FastCGI would otherwise show only as 502/503 answers
// to the first requests; here it is one warning (or, with 'fail', one error) that names the
// backend, what was found and what to change. A backend that accepts and stays silent is fine
// (a FastCGI application may ignore management records).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { formatAddress, type BackendAddress } from '../client/address'
import { STARTUP_VALUE_NAMES, probeBackend, type ProbeOutcome } from '../client/probe-values'
import { StartupCheckError } from '../errors'
import type { FastcgiConfig, HostConfig } from './options'

/** connectTimeout 0 means no connect timeout for requests; the check stays bounded anyway */
const UNBOUNDED_CONNECT_CAP = 8000
/** ms a connected backend has to answer; silence past it counts as a FastCGI application */
const ANSWER_TIMEOUT = 1000

export interface StartupLogger {
  warn (obj: object, msg: string): void
}

export interface StartupProblem {
  /** `backend 'php' (server['.php'][0]) at unix:/run/php/php-fpm.sock` */
  readonly backend: string
  /** the names of the entries at the address, comma-separated */
  readonly names: string
  readonly address: string
  readonly problem: string
}

/** The hosts of each remote address, in configuration order: one probe and one report per address. */
function remoteAddresses (config: FastcgiConfig): HostConfig[][] {
  const byAddress = new Map<string, HostConfig[]>()
  for (const mapping of config.mappings) {
    for (const host of mapping.hosts) {
      if (host.spawned) continue
      const key = formatAddress(host.address)
      const hosts = byAddress.get(key) ?? []
      hosts.push(host)
      byAddress.set(key, hosts)
    }
  }
  return [...byAddress.values()]
}

function describeBackend (hosts: readonly HostConfig[]): string {
  const first = hosts[0] as HostConfig
  const names = hosts.map((host) => `'${host.name}'`).join(', ')
  return `backend ${names} (${hosts.map((host) => host.optionPath).join(', ')}) at ${formatAddress(first.address)}`
}

/** Probes every remote backend; the problems found, in configuration order. */
export async function findStartupProblems (config: FastcgiConfig): Promise<StartupProblem[]> {
  const groups = remoteAddresses(config)
  const problems = await Promise.all(groups.map(async (hosts) => {
    const host = hosts[0] as HostConfig
    const connectTimeout = host.connectTimeout > 0 ? host.connectTimeout : UNBOUNDED_CONNECT_CAP
    const outcome = await probeBackend(host.address, { connectTimeout, answerTimeout: Math.min(ANSWER_TIMEOUT, connectTimeout), names: STARTUP_VALUE_NAMES, padded: true })
    const problem = describeOutcome(outcome, host.address, host.optionPath, connectTimeout)
    if (problem === undefined) return undefined
    return { backend: describeBackend(hosts), names: hosts.map((h) => h.name).join(', '), address: formatAddress(host.address), problem }
  }))
  return problems.filter((problem) => problem !== undefined)
}

/** 'warn': one warning per problem; 'fail': rejects with FST_FASTCGI_STARTUP_CHECK listing them. */
export async function runStartupCheck (config: FastcgiConfig, logger: StartupLogger): Promise<void> {
  if (config.startupCheck === 'off') return
  const problems = await findStartupProblems(config)
  if (problems.length === 0) return
  if (config.startupCheck === 'fail') {
    throw new StartupCheckError(problems.map((p) => `${p.backend}: ${p.problem}`).join('; '))
  }
  for (const p of problems) logger.warn({ backend: p.names, address: p.address }, `FastCGI start-up check: ${p.backend}: ${p.problem}`)
}

/** Undefined when the outcome is that of a FastCGI backend; else what is wrong and what to change. */
export function describeOutcome (outcome: ProbeOutcome, address: BackendAddress, optionPath: string, connectTimeout: number): string | undefined {
  switch (outcome.kind) {
    case 'answered':
    case 'silent':
      return undefined
    case 'timeout':
      return `connecting did not complete within connectTimeout (${connectTimeout} ms): the host is down or a firewall drops the packets; check ${optionPath}.host and .port`
    case 'closed':
      return 'it accepted the connection and closed it without answering FCGI_GET_VALUES: not a FastCGI server, or one that refuses this client ' +
        `(php-fpm: listen.allowed_clients); check ${optionPath}`
    case 'foreign':
      return outcome.sample.startsWith('"HTTP/')
        ? `an HTTP server answers there, not a FastCGI one (first bytes ${outcome.sample}): point ${optionPath} at the FastCGI port ` +
          "(php-fpm's 'listen', often 9000), or use @fastify/http-proxy for an HTTP backend"
        : `it answers, but not in FastCGI (first bytes ${outcome.sample}): point ${optionPath} at the FastCGI server's address`
    case 'unreachable':
      return describeUnreachable(outcome.code, address, optionPath)
  }
}

function describeUnreachable (code: string, address: BackendAddress, optionPath: string): string | undefined {
  if (address.kind === 'unix') return describeSocketError(code, address.path, optionPath)
  switch (code) {
    case 'EAGAIN':
      return undefined // there, and busy
    case 'ECONNREFUSED':
      return `nothing listens on ${address.host}:${address.port} (connection refused): start the FastCGI server ` +
        `(php-fpm: the 'listen' setting of its pool), or correct ${optionPath}.host and .port`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${JSON.stringify(address.host)} does not resolve (${code}): correct ${optionPath}.host`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${address.host} (${code}): check ${optionPath}.host and the network`
    default:
      return `connecting to ${address.host}:${address.port} fails with ${code}: check ${optionPath}.host and .port`
  }
}

function describeSocketError (code: string, socketPath: string, optionPath: string): string | undefined {
  const dir = path.dirname(socketPath)
  switch (code) {
    case 'EAGAIN':
      return undefined
    case 'ENOENT': {
      const where = dirState(dir)
      return `the socket ${socketPath} does not exist (${where}): start the FastCGI server, or set ${optionPath}.socket to the path it listens on ` +
        "(php-fpm: 'listen' in the pool's configuration)"
    }
    case 'ECONNREFUSED':
      return isSocketFile(socketPath)
        ? `nothing listens on the socket ${socketPath} (connection refused; a server that stopped leaves its socket file behind): start the FastCGI server, or correct ${optionPath}.socket`
        : `${socketPath} is not a socket: set ${optionPath}.socket to the path the FastCGI server listens on`
    case 'EACCES':
      return `permission denied on ${socketPath}: this server runs as ${currentUser()}, and ${ownership(socketPath)}; ` +
        "give that user access to the socket (php-fpm: listen.owner, listen.group, listen.mode), or run this server as a member of the socket's group"
    default:
      return `connecting to ${socketPath} fails with ${code}: check ${optionPath}.socket`
  }
}

function dirState (dir: string): string {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : ''
    return code === 'ENOENT' ? `its directory ${dir} does not exist either` : `its directory ${dir} cannot be read (${code})`
  }
  const sockets = names.filter((name) => isSocketFile(path.join(dir, name))).slice(0, 5)
  return sockets.length === 0
    ? `its directory ${dir} exists and holds no socket`
    : `its directory ${dir} holds ${sockets.map((name) => JSON.stringify(name)).join(', ')}`
}

function isSocketFile (file: string): boolean {
  try {
    return fs.statSync(file).isSocket()
  } catch {
    return false
  }
}

function currentUser (): string {
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  let name = String(uid)
  try {
    name = os.userInfo().username
  } catch {}
  return `user '${name}' (uid ${String(uid)}, gid ${String(gid)})`
}

function ownership (socketPath: string): string {
  try {
    const stat = fs.statSync(socketPath)
    return `the socket belongs to uid ${stat.uid}, gid ${stat.gid} with mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}`
  } catch {
    return `its directory ${path.dirname(socketPath)} is not searchable for that user`
  }
}
