// The backend pool: which process a request goes to (balancing among the hosts of a mapping,
// load counts, rotation) and the counters the statistics are made of. Keeping the processes
// alive is Supervision's (supervision.ts). It never speaks FastCGI itself: the Fastify layer
// sends through the client each process carries, and reports back through reportConnect() and
// release().
import { EventEmitter } from 'node:events'
import { formatAddress, type BackendAddress } from '../client/address'
import type { Host } from './host'
import { PoolProc } from './host'
import { createPicker, type HostPicker } from './pickers'
import type { Guarded } from './process-guard'
import { prometheusText, statsRecord, type PoolSnapshot } from './stats'
import { Supervision } from './supervision'
import { within } from './spawn-problems'
import type {
  BackendInfo, BackendPoolOptions, BackendSpec, ConnectOutcome, PickHint, PoolEventMap, Proc
} from './types'

interface MappingEntry<S extends BackendSpec, C> {
  readonly hosts: Array<Host<S, C>>
  readonly picker: HostPicker
}

export class BackendPool<S extends BackendSpec = BackendSpec, C = unknown> extends EventEmitter<PoolEventMap> implements Guarded {
  private readonly supervision: Supervision<S, C>
  private readonly mappings = new Map<string, MappingEntry<S, C>>()
  private readonly drainWaiters = new Set<() => void>()
  private requests = 0
  private active = 0

  constructor (private readonly options: BackendPoolOptions<S, C>) {
    super()
    this.supervision = new Supervision(options, this, this)
  }

  /**
   * Two specs naming the same address are one host (one load, one set of processes), whatever
   * their mapping keys; the one with binPath decides how it is spawned.
   */
  add (spec: S): void {
    const host = this.supervision.addHost(spec)
    let entry = this.mappings.get(spec.mappingKey)
    if (entry === undefined) {
      entry = { hosts: [], picker: createPicker(this.options.balance) }
      this.mappings.set(spec.mappingKey, entry)
    }
    if (!entry.hosts.includes(host)) entry.hosts.push(host)
  }

  /** Spawns minProcs processes of every binPath backend; on any failure, undoes everything. */
  start (): Promise<void> {
    return this.supervision.start()
  }

  /**
   * Host by the balance algorithm among the mapping's hosts that have a running process not in
   * `exclude`, then that host's least-loaded such process (ties: lowest process number, so that
   * processes beyond minProcs can fall idle).
   */
  pick (mappingKey: string, hint: PickHint, exclude?: ReadonlySet<Proc<S, C>>, accept?: (spec: S) => boolean): Proc<S, C> | undefined {
    if (this.supervision.shuttingDown()) return undefined
    const entry = this.mappings.get(mappingKey)
    if (entry === undefined) return undefined
    const candidates: Array<{ index: number, load: number, address: BackendAddress, proc: PoolProc<S, C> }> = []
    entry.hosts.forEach((host, index) => {
      // an address may serve several entries of the key (an authorizer and a responder): only those `accept` takes
      if (accept !== undefined && host.entryFor(mappingKey, accept) === undefined) return
      const proc = this.bestProc(host, exclude)
      if (proc !== undefined) candidates.push({ index, load: host.load, address: host.spec.address, proc })
    })
    if (candidates.length === 0) {
      this.supervision.spawnOnDemand(entry.hosts)
      return undefined
    }
    const chosen = entry.hosts.length === 1 ? candidates[0] : entry.picker.pick(candidates, hint)
    if (chosen === undefined) return undefined
    const proc = chosen.proc
    proc.load++
    proc.lastUsed = Date.now()
    this.requests++
    this.active++
    if (this.options.debug) this.debugProcs('got proc', proc)
    return proc
  }

  reportConnect (proc: Proc<S, C>, outcome: ConnectOutcome): void {
    const own = this.own(proc)
    if (own === undefined || this.supervision.phase === 'closed') return
    switch (outcome) {
      case 'connected':
        own.counters.connected++
        return
      case 'refused':
      case 'timeout':
        own.counters.died++
        this.disable(own, 'disabled', outcome)
        return
      case 'overloaded':
        own.counters.overloaded++
        this.disable(own, 'overloaded', outcome)
    }
  }

  release (proc: Proc<S, C>): void {
    const own = this.own(proc)
    if (own === undefined || own.load === 0) return
    own.load--
    this.active--
    own.lastUsed = Date.now()
    if (this.options.debug) this.debugProcs('release proc', own)
    if (this.active === 0) {
      for (const resolve of this.drainWaiters) resolve()
      this.drainWaiters.clear()
    }
  }

  /** Seconds until some backend of the mapping is expected back (re-enable or respawn), at least 1. */
  retryAfterSeconds (mappingKey: string): number {
    const entry = this.mappings.get(mappingKey)
    if (entry === undefined) return 1
    const now = Date.now()
    let soonest = Infinity
    for (const host of entry.hosts) {
      for (const proc of host.procs) {
        if (proc.state === 'disabled' || proc.state === 'overloaded') soonest = Math.min(soonest, proc.disabledUntil - now)
        else if (proc.state === 'died') soonest = Math.min(soonest, proc.respawnAt - now)
      }
    }
    if (soonest === Infinity) return 1
    return Math.max(1, Math.ceil(soonest / 1000))
  }

  backends (): BackendInfo[] {
    return this.snapshot().hosts.flatMap((host) => host.procs)
  }

  stats (): Record<string, number> {
    return statsRecord(this.snapshot())
  }

  prometheus (): string {
    return prometheusText(this.snapshot())
  }

  /**
   * Stops handing out processes, lets in-flight requests finish (up to closeGrace), then stops
   * every spawned process (Supervision.close). Idempotent.
   */
  close (): Promise<void> {
    return this.supervision.close((ms) => this.waitDrain(ms))
  }

  /** Every process's client (BackendPoolOptions.connect) stops keeping connections; `now`: drops requests in flight too. */
  disconnect (now: boolean): void {
    const disconnect = this.options.disconnect
    if (disconnect === undefined) return
    for (const host of this.supervision.hosts.values()) {
      for (const proc of host.procs) {
        if (proc?.client !== undefined) disconnect(proc.client, now)
      }
    }
  }

  /** Every process's client (BackendPoolOptions.connect) by the process's address: the status page reads their counters. */
  clients (): Map<string, C> {
    const out = new Map<string, C>()
    for (const host of this.supervision.hosts.values()) {
      for (const proc of host.procs) {
        if (proc?.client !== undefined) out.set(formatAddress(proc.address), proc.client)
      }
    }
    return out
  }

  /** For the process 'exit' handler: nothing asynchronous can run any more. */
  killNowSync (): void {
    this.supervision.killNowSync()
  }

  private own (proc: Proc<S, C>): PoolProc<S, C> | undefined {
    return proc instanceof PoolProc && this.supervision.owns(proc) ? proc : undefined
  }

  private debugProcs (msg: string, proc: PoolProc<S, C>): void {
    const procs = proc.host.procs.filter((p) => p !== undefined).map((p) => p.debugLine()).sort((a, b) => a.load - b.load)
    this.options.logger.debug({ ...proc.logFields(), load: proc.load, procs }, msg)
  }

  private bestProc (host: Host<S, C>, exclude: ReadonlySet<Proc<S, C>> | undefined): PoolProc<S, C> | undefined {
    let best: PoolProc<S, C> | undefined
    for (const proc of host.procs) {
      if (proc === undefined || proc.state !== 'running' || exclude?.has(proc) === true) continue
      if (best === undefined || proc.load < best.load) best = proc
    }
    return best
  }

  /** Hosts and processes as plain data (the status page joins them with the request metrics). */
  snapshot (): PoolSnapshot {
    const hosts = [...this.supervision.hosts.values()].map((host) => ({
      name: host.name,
      address: host.key,
      mappingKeys: [...host.mappingKeys],
      entries: host.entries.map((spec) => ({ mappingKey: spec.mappingKey, name: spec.name })),
      load: host.load,
      procs: host.procs.filter((p) => p !== undefined).map((p) => p.info())
    }))
    return { requests: this.requests, activeRequests: this.active, hosts }
  }

  private waitDrain (ms: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true)
    let resolveDrain: () => void = () => {}
    const drained = new Promise<void>((resolve) => {
      resolveDrain = resolve
    })
    this.drainWaiters.add(resolveDrain)
    return within(drained, ms).finally(() => this.drainWaiters.delete(resolveDrain))
  }

  /** Out of rotation for disableTime after a failed connect or an overload answer (lighttpd 8). */
  private disable (proc: PoolProc<S, C>, state: 'disabled' | 'overloaded', outcome: ConnectOutcome): void {
    // a second failing request for a process already out of rotation changes nothing
    if (proc.state !== 'running' || this.supervision.phase === 'closing') return
    const disableTime = proc.host.spec.disableTime
    proc.state = state
    proc.counters.disabled++
    proc.disabledUntil = Date.now() + disableTime
    if (proc.timer !== undefined) clearTimeout(proc.timer)
    proc.timer = setTimeout(() => this.enable(proc), disableTime)
    proc.timer.unref()
    const reason = state === 'overloaded' ? 'overloaded' : 'failed'
    this.options.logger.warn({ ...proc.logFields(), outcome, disableTime },
      state === 'overloaded'
        ? 'FastCGI backend overloaded; not sending it requests for disableTime'
        : 'FastCGI backend connect failed; disabled for disableTime, requests go to other backends')
    this.emit('disabled', { name: proc.name, address: formatAddress(proc.address), until: proc.disabledUntil, reason })
  }

  private enable (proc: PoolProc<S, C>): void {
    proc.timer = undefined
    if (proc.state !== 'disabled' && proc.state !== 'overloaded') return
    proc.state = 'running'
    this.options.logger.info(proc.logFields(), 'FastCGI backend re-enabled')
    this.emit('enabled', { name: proc.name, address: formatAddress(proc.address) })
  }
}
