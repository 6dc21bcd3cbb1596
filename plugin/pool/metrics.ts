// Per-request figures by mapping and backend: status classes, latency histograms, queue,
// timeouts, aborts, retries, respawns. The request path calls a RequestMeasure at a few points;
// nothing here knows Fastify. On the hot path a request costs one RequestMeasure and a handful of
// counter increments: a histogram is a fixed array of counters, series are found by two Map
// lookups without building a key string.
import { performance } from 'node:perf_hooks'
import { formatAddress, type BackendAddress } from '../client/address'
import type { QueueWatcher } from '../client/backend-client'
import type { SpoolWatcher } from '../client/response-feed'

/** Upper bounds in seconds, as Prometheus client libraries default them (plus 30 and 60 for slow scripts). */
export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
export type StatusClass = typeof STATUS_CLASSES[number]

export const TIMEOUT_KINDS = ['connect', 'read', 'write', 'queue', 'send'] as const
export type TimeoutKind = typeof TIMEOUT_KINDS[number]

// the FST_FASTCGI_* codes of plugin/errors.ts that are timeouts
const TIMEOUT_CODES: ReadonlyMap<string, TimeoutKind> = new Map([
  ['FST_FASTCGI_CONNECT_TIMEOUT', 'connect'],
  ['FST_FASTCGI_READ_TIMEOUT', 'read'],
  ['FST_FASTCGI_WRITE_TIMEOUT', 'write'],
  ['FST_FASTCGI_QUEUE_TIMEOUT', 'queue'],
  ['FST_FASTCGI_SEND_TIMEOUT', 'send']
])

/** The backend's name in labels and logs: its label, or its address when it has none. */
export function backendLabel (name: string, address: BackendAddress | string): string {
  if (name !== '') return name
  return typeof address === 'string' ? address : formatAddress(address)
}

export class Histogram {
  /** per bucket (not cumulative); the last one is +Inf */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (readonly bounds: readonly number[] = LATENCY_BUCKETS) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (seconds: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > (bounds[i] as number)) i++
    this.counts[i]++
    this.sum += seconds
    this.count++
  }

  /** Cumulative counts per upper bound, +Inf last (Prometheus `_bucket` samples). */
  cumulative (): Array<[number, number]> {
    const out: Array<[number, number]> = []
    let running = 0
    for (let i = 0; i < this.counts.length; i++) {
      running += this.counts[i] ?? 0
      out.push([i < this.bounds.length ? (this.bounds[i] as number) : Infinity, running])
    }
    return out
  }

  /** The upper bound under which `quantile` of the observations fall (bucket resolution); undefined when empty. */
  quantileBound (quantile: number): number | undefined {
    if (this.count === 0) return undefined
    const wanted = quantile * this.count
    for (const [bound, running] of this.cumulative()) if (running >= wanted) return bound
    return Infinity
  }
}

/** Everything counted for one backend of one mapping. */
export class BackendSeries {
  /** responses sent in full, by status class (index 0 = 1xx) */
  readonly responses = new Float64Array(STATUS_CLASSES.length)
  readonly timeouts = new Float64Array(TIMEOUT_KINDS.length)
  aborts = 0
  retries = 0
  /** responses whose body went (in part) to a temp file for a slow reader, and the bytes that did */
  spooled = 0
  spooledBytes = 0
  /** requests waiting for a slot under maxConcurrency right now */
  queueDepth = 0
  readonly queueWait: Histogram
  /** request sent until the CGI header block was parsed */
  readonly firstByte: Histogram
  /** request start until the response was sent (or the client went away) */
  readonly total: Histogram

  constructor (readonly mapping: string, readonly backend: string, bounds: readonly number[]) {
    this.queueWait = new Histogram(bounds)
    this.firstByte = new Histogram(bounds)
    this.total = new Histogram(bounds)
  }

  get requests (): number {
    let sum = this.aborts
    for (const n of this.responses) sum += n
    return sum
  }
}

export interface MetricsSnapshot {
  /** epoch ms the recorder was created (the plugin's registration) */
  readonly startedAt: number
  readonly uptimeSeconds: number
  readonly series: readonly BackendSeries[]
  /** processes started again at an address that had one before, by process address */
  readonly respawns: ReadonlyMap<string, number>
}

export class RequestMetrics {
  readonly startedAt = Date.now()
  private readonly startedTick = performance.now()
  private readonly byMapping = new Map<string, Map<string, BackendSeries>>()
  /** by process address; 0 once a process was spawned there */
  private readonly respawnsByAddress = new Map<string, number>()

  constructor (private readonly bounds: readonly number[] = LATENCY_BUCKETS) {}

  /** One request (local redirects included) from its start. */
  begin (mapping: string): RequestMeasure {
    return new RequestMeasure(this, mapping)
  }

  series (mapping: string, backend: string): BackendSeries {
    let backends = this.byMapping.get(mapping)
    if (backends === undefined) {
      backends = new Map()
      this.byMapping.set(mapping, backends)
    }
    let series = backends.get(backend)
    if (series === undefined) {
      series = new BackendSeries(mapping, backend, this.bounds)
      backends.set(backend, series)
    }
    return series
  }

  /**
   * The pool's 'spawned' event: a process started at an address that had one before is a
   * respawn (after a crash, or after an idle timeout stopped it).
   */
  spawned (address: string): void {
    const before = this.respawnsByAddress.get(address)
    this.respawnsByAddress.set(address, before === undefined ? 0 : before + 1)
  }

  snapshot (): MetricsSnapshot {
    const series: BackendSeries[] = []
    for (const backends of this.byMapping.values()) series.push(...backends.values())
    return {
      startedAt: this.startedAt,
      uptimeSeconds: (performance.now() - this.startedTick) / 1000,
      series,
      respawns: new Map(this.respawnsByAddress)
    }
  }
}

/**
 * One request's measurements. The request path calls attempt() for each backend tried, head()
 * at the response head, failed() with any error, and end() once when the reply is over.
 */
export class RequestMeasure implements QueueWatcher, SpoolWatcher {
  private readonly started = performance.now()
  private attemptStarted = 0
  private queuedAt = -1
  private current: BackendSeries | undefined
  private attempts = 0
  private ended = false
  /** ms from start to the response head, -1 before it */
  firstByteMs = -1
  /** ms from start to end(), -1 before it */
  durationMs = -1

  constructor (private readonly metrics: RequestMetrics, private mapping: string) {}

  get mappingKey (): string {
    return this.mapping
  }

  /** the backend label of the last attempt ('' before any) */
  get backend (): string {
    return this.current?.backend ?? ''
  }

  get attemptCount (): number {
    return this.attempts
  }

  /**
   * A backend was picked and the request goes to it; `retry`: another backend of this dispatch
   * could not be reached (a local redirect's next hop is no retry).
   */
  attempt (mapping: string, backend: string, retry: boolean): void {
    if (this.current?.mapping !== mapping || this.current.backend !== backend) {
      this.mapping = mapping
      this.current = this.metrics.series(mapping, backend)
    }
    if (retry) this.current.retries++
    this.attempts++
    this.attemptStarted = performance.now()
  }

  /** The response's reader was slow: `bytes` of its body waited in a temp file. */
  spooled (bytes: number): void {
    if (this.current === undefined) return
    this.current.spooled++
    this.current.spooledBytes += bytes
  }

  enterQueue (): void {
    if (this.current === undefined || this.queuedAt >= 0) return
    this.current.queueDepth++
    this.queuedAt = performance.now()
  }

  leaveQueue (): void {
    if (this.current === undefined || this.queuedAt < 0) return
    this.current.queueDepth--
    this.current.queueWait.observe((performance.now() - this.queuedAt) / 1000)
    this.queuedAt = -1
  }

  /** The CGI header block is in: time to first byte, from this attempt's start. */
  head (): void {
    if (this.current === undefined) return
    const now = performance.now()
    this.current.firstByte.observe((now - this.attemptStarted) / 1000)
    this.firstByteMs = now - this.started
  }

  /** Any error of the request or of its response body; timeouts are counted by kind. */
  failed (err: unknown): void {
    if (this.current === undefined || typeof err !== 'object' || err === null || !('code' in err)) return
    const kind = typeof err.code === 'string' ? TIMEOUT_CODES.get(err.code) : undefined
    if (kind !== undefined) this.current.timeouts[TIMEOUT_KINDS.indexOf(kind)]++
  }

  /**
   * The reply is over: `finished` false means the client went away before all of it was sent (an
   * abort), else `status` is what it got. Only the first call counts.
   */
  end (status: number, finished: boolean): void {
    if (this.ended) return
    this.ended = true
    this.durationMs = performance.now() - this.started
    const series = this.current ?? this.metrics.series(this.mapping, '')
    if (this.queuedAt >= 0) this.leaveQueue()
    if (!finished) series.aborts++
    else {
      const index = Math.floor(status / 100) - 1
      if (index >= 0 && index < STATUS_CLASSES.length) series.responses[index]++
    }
    series.total.observe(this.durationMs / 1000)
  }
}
