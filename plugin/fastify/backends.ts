// Backend identity, decided once at register(): every process (or remote backend) carries the
// host entries configured at its address and the one BackendClient that talks to it. Entries
// that share an address (lighttpd's tests run an authorizer and a responder on one socket)
// share its processes and connections, so the options that shape those must agree; a
// disagreement fails register() naming both entries instead of one losing its options.
import { BackendClient } from '../client/backend-client'
import { formatAddress } from '../client/address'
import { BackendPool } from '../pool'
import type { PoolLogger, Proc } from '../pool'
import { InvalidOptionError } from '../errors'
import type { FastcgiConfig, HostConfig } from './options'

export type Backends = BackendPool<HostConfig, BackendClient>
export type Backend = Proc<HostConfig, BackendClient>

/**
 * Options of the address: its connections and the client's queue. The timeouts are not among
 * them: they bound one request, so each entry's go with its requests (dispatcher.ts).
 */
const CONNECTION_OPTIONS = [
  'keepAlive', 'keepAliveMaxIdle', 'keepAliveTimeout',
  'maxConcurrency', 'queueLimit', 'queueTimeout', 'disableTime'
] as const satisfies ReadonlyArray<keyof HostConfig>
/** Options of the processes, when both entries spawn them. */
const PROCESS_OPTIONS = [
  'binPath', 'binEnvironment', 'binCopyEnvironment', 'killSignal', 'listenBacklog', 'minProcs', 'maxProcs', 'maxLoadPerProc', 'idleTimeout'
] as const satisfies ReadonlyArray<keyof HostConfig>

/** Throws InvalidOptionError when two entries at one address disagree on what the address decides. */
export function checkSharedAddresses (config: FastcgiConfig): void {
  const first = new Map<string, HostConfig>()
  for (const mapping of config.mappings) {
    for (const host of mapping.hosts) {
      const address = formatAddress(host.address)
      const earlier = first.get(address)
      if (earlier === undefined) {
        first.set(address, host)
        continue
      }
      const options: ReadonlyArray<keyof HostConfig> = earlier.spawned && host.spawned ? [...CONNECTION_OPTIONS, ...PROCESS_OPTIONS] : CONNECTION_OPTIONS
      for (const option of options) {
        const a = JSON.stringify(earlier[option])
        const b = JSON.stringify(host[option])
        if (a === b) continue
        throw new InvalidOptionError(`${host.optionPath}.${option} is ${b ?? 'unset'}, but ${earlier.optionPath} at the same address ${address} has ${a ?? 'unset'}: ` +
          'entries on one address share its processes and connections, so they must agree (set it the same on both, or give them different addresses)')
      }
    }
  }
}

/** The pool with every configured entry, each address with its client. */
export function createBackends (config: FastcgiConfig, logger: PoolLogger): Backends {
  checkSharedAddresses(config)
  const pool: Backends = new BackendPool<HostConfig, BackendClient>({
    balance: config.balance,
    debug: config.debug,
    logger,
    closeGrace: config.closeGrace,
    probeStarted: config.startupCheck !== 'off',
    connect: (address, host) => new BackendClient({
      address,
      connectTimeout: host.connectTimeout,
      readTimeout: host.readTimeout,
      writeTimeout: host.writeTimeout,
      sendTimeout: host.sendTimeout,
      keepAlive: host.keepAlive,
      keepAliveMaxIdle: host.keepAliveMaxIdle,
      keepAliveTimeout: host.keepAliveTimeout,
      maxConcurrency: host.maxConcurrency,
      queueLimit: host.queueLimit,
      queueTimeout: host.queueTimeout,
      headerLimit: config.headerLimit,
      onReuseOff: () => {
        logger.info({ address: formatAddress(address) }, 'FastCGI backend left a kept connection unread (a multithreaded libfcgi app): a connection per request from now on')
      }
    }),
    disconnect: (client, now) => {
      if (now) client.destroy()
      else client.close()
    }
  })
  for (const mapping of config.mappings) {
    for (const host of mapping.hosts) pool.add(host)
  }
  return pool
}
