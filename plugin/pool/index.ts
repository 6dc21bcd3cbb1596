// Layer 4: the backend pool. No Fastify here; the Fastify layer decorates and drives it.
export { BackendPool } from './backend-pool'
export type {
  BackendInfo, BackendPoolOptions, BackendSpec, BalanceAlgorithm, ConnectOutcome, DisabledEvent, EnabledEvent,
  ExitedEvent, PickHint, PoolEventMap, PoolLogger, PoolTiming, Proc, ProcCounters, ProcState, SpawnedEvent
} from './types'
