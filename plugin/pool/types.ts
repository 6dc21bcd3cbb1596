// The contract between the pool (layer 4) and the Fastify layer (layer 5).
// The pool supervises processes and chooses where a request goes; it never talks FastCGI
// itself: the Fastify layer sends the request through client/ and reports back how the
// connect went, so that the pool can disable or respawn.
import type { BackendAddress } from '../client/address'

export type BalanceAlgorithm = 'fair' | 'least-connection' | 'round-robin' | 'hash' | 'sticky'

export type ProcState = 'running' | 'disabled' | 'overloaded' | 'died' | 'starting' | 'stopped'

/** One host entry of a mapping, as the validated configuration gives it. Durations in ms. */
export interface BackendSpec {
  /** mapping key this entry was configured under ('.php', '/app/') */
  readonly mappingKey: string
  /** label ('' for unnamed entries, as lighttpd) */
  readonly name: string
  /** remote address, or for spawned backends the base address (socket path / first port) */
  readonly address: BackendAddress
  readonly binPath?: readonly string[]
  readonly binEnvironment?: Readonly<Record<string, string>>
  readonly binCopyEnvironment?: readonly string[]
  readonly killSignal: NodeJS.Signals | number
  readonly minProcs: number
  readonly maxProcs: number
  readonly maxLoadPerProc: number
  readonly idleTimeout: number
  readonly disableTime: number
  readonly listenBacklog: number
  /** ms to connect; also how long a process start() spawned has to answer FastCGI (default 8000) */
  readonly connectTimeout?: number
  /** where the entry is written in the options (`server['.php'][0]`): start-up errors name it */
  readonly optionPath?: string
}

export interface ProcCounters {
  connected: number
  died: number
  overloaded: number
  disabled: number
}

/** One process (spawned) or one remote backend; what a request is sent to. */
export interface Proc<S extends BackendSpec = BackendSpec, C = unknown> {
  readonly id: number
  readonly name: string
  readonly address: BackendAddress
  readonly isLocal: boolean
  readonly state: ProcState
  readonly load: number
  readonly pid: number | undefined
  readonly counters: Readonly<ProcCounters>
  /** what requests to it are sent through, made once per address by BackendPoolOptions.connect (none without it) */
  readonly client: C | undefined
  /** the entry of `mappingKey` (among those that share this address) that `accept` takes */
  entryFor (mappingKey: string, accept?: (spec: S) => boolean): S | undefined
}

export interface PickHint {
  /** decoded URL path plus lowercased host: 'hash' balancing */
  readonly path: string
  readonly host: string
  /** client IP: 'sticky' balancing */
  readonly clientAddress: string
}

export type ConnectOutcome = 'connected' | 'refused' | 'overloaded' | 'timeout'

// ---- Added with the pool implementation (issue 3) ----

/** The part of pino the pool logs through. */
export interface PoolLogger {
  debug (obj: object, msg: string): void
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

/**
 * Internal clocks of the pool, in ms. The defaults suit production; tests shorten them so that
 * back-off and adaptive spawning can be observed within a bounded window.
 */
export interface PoolTiming {
  /** first respawn delay after a process exits */
  readonly backoffInitial: number
  /** upper bound of the doubling respawn delay */
  readonly backoffMax: number
  /** a process that has lived this long resets its back-off */
  readonly stableAfter: number
  /** period of the adaptive spawning / idle-timeout check (lighttpd: once per second) */
  readonly maintenanceInterval: number
  /**
   * a process that exits this soon after start() spawned it (or after it hung up on the start-up
   * FCGI_GET_VALUES) fails start()
   */
  readonly startCheck: number
  /** how long start() waits for an answer when checking whether an address is already served */
  readonly probeTimeout: number
}

export interface BackendPoolOptions<S extends BackendSpec = BackendSpec, C = unknown> {
  readonly balance: BalanceAlgorithm
  readonly debug: boolean
  readonly logger: PoolLogger
  /** ms that close() waits for in-flight requests, and then for processes to exit; default 5000 */
  readonly closeGrace?: number
  readonly timing?: Partial<PoolTiming>
  /**
   * start() waits until every process it spawned answers FastCGI, each within its
   * connectTimeout, and fails otherwise (default true); false: only an exit fails it.
   */
  readonly probeStarted?: boolean
  /**
   * Builds what requests to one process address are sent through (the Fastify layer: its
   * BackendClient), from the entry that decides how the address is served; once per address.
   */
  readonly connect?: (address: BackendAddress, spec: S) => C
  /** closes what connect() built (kept connections); `now`: also requests in flight */
  readonly disconnect?: (client: C, now: boolean) => void
}

/** One row of backends(): one process or one remote backend. Plain data, safe to serialize. */
export interface BackendInfo {
  /** every mapping key that shares this backend ('.php', '.php4') */
  readonly mappingKeys: readonly string[]
  readonly name: string
  /** process number within its backend: the `<n>` of the counter names */
  readonly id: number
  /** `unix:PATH` or `tcp:HOST:PORT` */
  readonly address: string
  readonly isLocal: boolean
  readonly state: ProcState
  readonly load: number
  readonly pid: number | null
  readonly counters: Readonly<ProcCounters>
  /** epoch ms until which a disabled or overloaded backend is out of rotation, else null */
  readonly disabledUntil: number | null
}

export interface SpawnedEvent { readonly name: string, readonly pid: number, readonly address: string }
export interface ExitedEvent {
  readonly name: string
  readonly pid: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}
export interface DisabledEvent {
  readonly name: string
  readonly address: string
  /** epoch ms */
  readonly until: number
  /** 'failed': connect refused or timed out; 'overloaded': the backend said it is full */
  readonly reason: 'failed' | 'overloaded'
}
export interface EnabledEvent { readonly name: string, readonly address: string }

export interface PoolEventMap {
  spawned: [SpawnedEvent]
  exited: [ExitedEvent]
  disabled: [DisabledEvent]
  enabled: [EnabledEvent]
}
