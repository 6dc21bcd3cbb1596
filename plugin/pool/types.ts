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
}

export interface ProcCounters {
  connected: number
  died: number
  overloaded: number
  disabled: number
}

/** One process (spawned) or one remote backend; what a request is sent to. */
export interface Proc {
  readonly id: number
  readonly name: string
  readonly address: BackendAddress
  readonly isLocal: boolean
  readonly state: ProcState
  readonly load: number
  readonly pid: number | undefined
  readonly counters: Readonly<ProcCounters>
}

export interface PickHint {
  /** decoded URL path plus lowercased host: 'hash' balancing */
  readonly path: string
  readonly host: string
  /** client IP: 'sticky' balancing */
  readonly clientAddress: string
}

export type ConnectOutcome = 'connected' | 'refused' | 'overloaded' | 'timeout'
