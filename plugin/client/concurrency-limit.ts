// How many requests one backend address has in flight, and the queue of those waiting for a
// slot. The cap is the user's maxConcurrency, the FCGI_MAX_CONNS the backend reports, or the
// capacity it is seen to serve (CapacityDiscovery); Infinity when none of them applies.
//
// A cap the user set is a promise: a full queue or a wait past queueTimeout fails the request
// (503). A discovered limit is our guess: a request waits for it at most DISCOVERED_LIMIT_WAIT
// and then goes on to the backend, and a full queue sends it on at once.
import { CapacityDiscovery } from './capacity-discovery'
import type { CancelTarget, Cancellation } from './cancellation'
import { ClientAbortedError, PoolClosedError, QueueFullError, QueueTimeoutError } from '../errors'

/**
 * ms a request waits for a slot under a discovered limit before it goes to the backend anyway:
 * the limit is our finding, not the user's, so it may delay a request but never fail one
 */
export const DISCOVERED_LIMIT_WAIT = 1000

export interface ConcurrencyLimitOptions {
  /** the cap; Infinity: none (until setCap or discover) */
  readonly cap: number
  /** requests allowed to wait for a slot beyond the cap */
  readonly queueLimit: number
  /** ms a request may wait for a slot; 0 = no limit */
  readonly queueTimeout: number
}

/** A request waiting for a slot; cancellation takes it out of the queue. */
class Waiter implements CancelTarget {
  constructor (
    private readonly queue: Waiter[],
    private readonly cancellation: Cancellation | undefined,
    /** Date.now() past which it stops waiting; Infinity: never */
    readonly deadline: number,
    private readonly onResolve: () => void,
    private readonly onReject: (err: Error) => void
  ) {}

  resolve (): void {
    this.cancellation?.unwatch(this)
    this.onResolve()
  }

  reject (err: Error): void {
    this.cancellation?.unwatch(this)
    this.onReject(err)
  }

  /** Leaves the queue and fails. */
  drop (err: Error): void {
    const index = this.queue.indexOf(this)
    if (index !== -1) this.queue.splice(index, 1)
    this.reject(err)
  }

  onCancel (): void {
    this.drop(new ClientAbortedError())
  }
}

/** One request's place under the limit: given back exactly once. */
export class Slot {
  private held = true
  constructor (private readonly limit: ConcurrencyLimit) {}

  release (): void {
    if (this.held) {
      this.held = false
      this.limit.free()
    }
  }
}

export class ConcurrencyLimit {
  inFlight = 0
  /** the cap in force */
  private cap: number
  /** set when the capacity is to be found from what the backend serves */
  private discovery: CapacityDiscovery | undefined
  private readonly waiters: Waiter[] = []
  /** fires at the first waiter's deadline */
  private queueTimer: NodeJS.Timeout | undefined
  /** ends the discovered limit's hold at the known capacity */
  private holdTimer: NodeJS.Timeout | undefined

  constructor (private readonly name: string, private readonly options: ConcurrencyLimitOptions) {
    this.cap = options.cap
  }

  /** requests allowed in flight now (Infinity: no cap) */
  get current (): number {
    return this.cap
  }

  /** the backend's capacity as far as known (Infinity: unknown) */
  get capacity (): number {
    return this.discovery?.known ?? this.cap
  }

  get queued (): number {
    return this.waiters.length
  }

  get discovering (): boolean {
    return this.discovery !== undefined
  }

  /** The cap the backend reported (FCGI_MAX_CONNS). */
  setCap (cap: number): void {
    this.cap = cap
    this.wake()
  }

  /** From now on the cap is the capacity the backend is seen to serve. */
  discover (): void {
    this.discovery = new CapacityDiscovery()
    this.cap = this.discovery.limit
  }

  /** The capacity is no longer to be found (each request gets a connection of its own again): back to the configured cap. */
  stopDiscovering (): void {
    if (this.discovery === undefined) return
    this.discovery = undefined
    clearTimeout(this.holdTimer)
    this.holdTimer = undefined
    this.cap = this.options.cap
    this.wake()
  }

  /** A fresh connection's first answer came while `othersAnswered` other answered connections were open. */
  freshAnswered (othersAnswered: number): void {
    const discovery = this.discovery
    if (discovery === undefined) return
    discovery.answered(othersAnswered)
    this.follow(discovery)
  }

  /**
   * A fresh connection was overtaken by a later request on a kept one: the backend had no
   * worker for it while we held `held` (undefined: that connection was counted already).
   */
  overtaken (held: number | undefined): void {
    const discovery = this.discovery
    if (discovery === undefined) return
    const hold = discovery.overtaken(held)
    this.follow(discovery)
    if (hold === 0 || this.holdTimer !== undefined) return
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined
      discovery.endHold()
      this.follow(discovery)
    }, hold)
    this.holdTimer.unref()
  }

  /** The cap becomes the discovered limit; waiters that now fit go (none when it fell). */
  private follow (discovery: CapacityDiscovery): void {
    this.cap = discovery.limit
    this.wake()
  }

  /** The hot path: a slot at once, or false. */
  tryTake (): boolean {
    if (this.inFlight >= this.cap) return false
    this.inFlight++
    return true
  }

  /** A slot now (undefined) or a promise of one; throws or rejects when there will be none. */
  take (cancellation: Cancellation | undefined): Promise<void> | undefined {
    if (cancellation?.cancelled === true) throw new ClientAbortedError()
    if (this.tryTake()) return undefined
    if (this.waiters.length >= this.options.queueLimit) {
      // a discovered limit delays, it never fails a request
      if (this.discovery === undefined) throw new QueueFullError(this.name)
      this.inFlight++
      return undefined
    }
    return new Promise<void>((resolve, reject) => {
      const wait = this.queueWait()
      const waiter = new Waiter(this.waiters, cancellation, wait > 0 ? Date.now() + wait : Infinity, resolve, reject)
      cancellation?.watch(waiter)
      this.waiters.push(waiter)
      if (wait > 0 && this.queueTimer === undefined) this.armQueueTimer(wait)
    })
  }

  /** Internal to Slot. */
  free (): void {
    this.inFlight--
    this.wake()
  }

  /** Fails every waiter and stops the timers. */
  close (): void {
    if (this.queueTimer !== undefined) clearTimeout(this.queueTimer)
    this.queueTimer = undefined
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer)
    this.holdTimer = undefined
    for (const waiter of this.waiters.splice(0)) waiter.reject(new PoolClosedError())
  }

  /** ms a request may wait for a slot: queueTimeout under a cap, DISCOVERED_LIMIT_WAIT under a discovered limit. */
  private queueWait (): number {
    return this.discovery === undefined ? this.options.queueTimeout : DISCOVERED_LIMIT_WAIT
  }

  /**
   * One timer for the whole queue, not one per waiter: the queue is in arrival order and every
   * waiter waits as long, so the first waiter's deadline is always the next one due.
   */
  private armQueueTimer (ms: number): void {
    this.queueTimer = setTimeout(() => this.onQueueTimer(), Math.max(1, ms))
    this.queueTimer.unref()
  }

  private onQueueTimer (): void {
    this.queueTimer = undefined
    const now = Date.now()
    const wait = this.queueWait()
    for (let first = this.waiters[0]; first !== undefined && first.deadline <= now; first = this.waiters[0]) {
      if (this.discovery === undefined) {
        first.drop(new QueueTimeoutError(this.name, wait))
      } else {
        // past the discovered limit: it goes to the backend's own queue, as with no limit
        this.waiters.shift()
        this.inFlight++
        first.resolve()
      }
    }
    const next = this.waiters[0]
    if (next !== undefined && next.deadline !== Infinity) this.armQueueTimer(next.deadline - now)
  }

  private wake (): void {
    while (this.inFlight < this.cap) {
      const waiter = this.waiters.shift()
      if (waiter === undefined) break
      this.inFlight++
      waiter.resolve()
    }
    if (this.waiters.length === 0 && this.queueTimer !== undefined) {
      clearTimeout(this.queueTimer)
      this.queueTimer = undefined
    }
  }
}
