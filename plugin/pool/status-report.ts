// The status page's content: the pool's snapshot (hosts, processes, counters) joined with the
// request metrics by mapping and backend, as JSON-ready data and as Prometheus text.
// The HTML view renders the same report (status-html.ts), so the three cannot disagree.
import { backendLabel, STATUS_CLASSES, TIMEOUT_KINDS } from './metrics'
import type { BackendSeries, Histogram, MetricsSnapshot, StatusClass, TimeoutKind } from './metrics'
import { labels, prometheusText } from './stats'
import type { PoolSnapshot } from './stats'
import type { BackendInfo } from './types'
import type { BackendClientStats } from '../client/backend-client'

/** The figures of one process's BackendClient that the status shows. */
export type ClientFigures = Pick<BackendClientStats, 'retries' | 'dirtyClosed' | 'connections' | 'limit' | 'capacity'>

/** A process's connection counters (its BackendClient), by process address. */
export type ClientCounters = ReadonlyMap<string, ClientFigures>

export interface HistogramReport {
  readonly count: number
  readonly sumSeconds: number
  /** null when empty */
  readonly meanSeconds: number | null
  /** upper bound of the bucket holding the median / the 95th percentile; null when empty */
  readonly p50Seconds: number | null
  readonly p95Seconds: number | null
  /** cumulative, as Prometheus: le '+Inf' last */
  readonly buckets: ReadonlyArray<{ readonly le: number | '+Inf', readonly count: number }>
}

export interface ProcessReport extends BackendInfo {
  readonly respawns: number
  /** requests sent again on a fresh connection because a kept one turned out closed by the backend */
  readonly connectionRetries: number
  /** kept connections closed because bytes came that belonged to no request in progress */
  readonly dirtyClosed: number
  /** connections opened to it so far */
  readonly connectionsOpened: number
  /** requests allowed in flight now; null: no cap */
  readonly concurrencyLimit: number | null
  /** its capacity as far as known (maxConcurrency, its FCGI_MAX_CONNS, or seen serving at once); null: unknown */
  readonly capacity: number | null
}

export interface BackendReport {
  readonly backend: string
  /** configured address; null for the '' series of requests that found no backend */
  readonly address: string | null
  readonly load: number
  readonly requests: number
  readonly responses: Readonly<Record<StatusClass, number>>
  readonly aborts: number
  readonly retries: number
  /** responses whose body went (in part) to a temp file for a slow reader, and the bytes that did */
  readonly spooled: number
  readonly spooledBytes: number
  readonly timeouts: Readonly<Record<TimeoutKind, number>>
  readonly queueDepth: number
  readonly queueWait: HistogramReport
  readonly firstByte: HistogramReport
  readonly total: HistogramReport
  readonly respawns: number
  readonly processes: readonly ProcessReport[]
}

export interface StatusReport {
  /** ISO time the plugin was registered */
  readonly startedAt: string
  readonly uptimeSeconds: number
  /** requests the pool assigned to a backend, and those in flight */
  readonly requests: number
  readonly activeRequests: number
  readonly mappings: ReadonlyArray<{ readonly mapping: string, readonly backends: readonly BackendReport[] }>
}

function histogramReport (h: Histogram | undefined): HistogramReport {
  if (h === undefined) return { count: 0, sumSeconds: 0, meanSeconds: null, p50Seconds: null, p95Seconds: null, buckets: [] }
  const bound = (q: number): number | null => {
    const b = h.quantileBound(q)
    return b === undefined || b === Infinity ? null : b
  }
  return {
    count: h.count,
    sumSeconds: h.sum,
    meanSeconds: h.count === 0 ? null : h.sum / h.count,
    p50Seconds: bound(0.5),
    p95Seconds: bound(0.95),
    buckets: h.cumulative().map(([le, count]) => ({ le: le === Infinity ? '+Inf' : le, count }))
  }
}

function byIndex<K extends string> (names: readonly K[], values: Float64Array | undefined): Record<K, number> {
  const out = {} as Record<K, number>
  names.forEach((name, i) => { out[name] = values?.[i] ?? 0 })
  return out
}

function backendReport (backend: string, address: string | null, load: number, series: BackendSeries | undefined, processes: ProcessReport[]): BackendReport {
  return {
    backend,
    address,
    load,
    requests: series?.requests ?? 0,
    responses: byIndex(STATUS_CLASSES, series?.responses),
    aborts: series?.aborts ?? 0,
    retries: series?.retries ?? 0,
    spooled: series?.spooled ?? 0,
    spooledBytes: series?.spooledBytes ?? 0,
    timeouts: byIndex(TIMEOUT_KINDS, series?.timeouts),
    queueDepth: series?.queueDepth ?? 0,
    queueWait: histogramReport(series?.queueWait),
    firstByte: histogramReport(series?.firstByte),
    total: histogramReport(series?.total),
    respawns: processes.reduce((sum, p) => sum + p.respawns, 0),
    processes
  }
}

/** JSON has no Infinity: an unbounded figure is null. */
function finiteOrNull (value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null
}

/** One entry per mapping key (configuration order), each with its backends and their processes. */
export function statusReport (pool: PoolSnapshot, metrics: MetricsSnapshot, clients: ClientCounters): StatusReport {
  const mappingKeys: string[] = []
  for (const host of pool.hosts) for (const key of host.mappingKeys) if (!mappingKeys.includes(key)) mappingKeys.push(key)
  for (const series of metrics.series) if (!mappingKeys.includes(series.mapping)) mappingKeys.push(series.mapping)
  const seriesOf = new Map<string, BackendSeries>()
  for (const series of metrics.series) seriesOf.set(`${series.mapping}\0${series.backend}`, series)
  const mappings = mappingKeys.map((mapping) => {
    const backends: BackendReport[] = []
    const shown = new Set<string>()
    for (const host of pool.hosts) {
      if (!host.mappingKeys.includes(mapping)) continue
      const processes = host.procs.map((p) => {
        const client = clients.get(p.address)
        return {
          ...p,
          respawns: metrics.respawns.get(p.address) ?? 0,
          connectionRetries: client?.retries ?? 0,
          dirtyClosed: client?.dirtyClosed ?? 0,
          connectionsOpened: client?.connections ?? 0,
          concurrencyLimit: finiteOrNull(client?.limit),
          capacity: finiteOrNull(client?.capacity)
        }
      })
      // entries sharing the address (an authorizer and a responder on one socket) are counted
      // under their own names, and share its processes
      for (const entry of host.entries) {
        const label = backendLabel(entry.name, host.address)
        if (entry.mappingKey !== mapping || shown.has(label)) continue
        shown.add(label)
        backends.push(backendReport(label, host.address, host.load, seriesOf.get(`${mapping}\0${label}`), processes))
      }
    }
    for (const series of metrics.series) {
      if (series.mapping === mapping && !shown.has(series.backend)) backends.push(backendReport(series.backend, null, 0, series, []))
    }
    return { mapping, backends }
  })
  return {
    startedAt: new Date(metrics.startedAt).toISOString(),
    uptimeSeconds: metrics.uptimeSeconds,
    requests: pool.requests,
    activeRequests: pool.activeRequests,
    mappings
  }
}

function number (value: number): string {
  if (value === Infinity) return '+Inf'
  return String(value)
}

/**
 * Prometheus text format 0.0.4: the pool's families (stats.ts, names unchanged) followed by the
 * request metrics. Every family has HELP and TYPE; histograms have cumulative `_bucket` samples
 * with `le`, then `_sum` and `_count`.
 */
export function statusPrometheus (pool: PoolSnapshot, metrics: MetricsSnapshot, clients: ClientCounters): string {
  const lines: string[] = []
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }
  const each = (emit: (series: BackendSeries, base: Record<string, string>) => void): void => {
    for (const series of metrics.series) emit(series, { mapping: series.mapping, backend: series.backend })
  }
  family('fastcgi_uptime_seconds', 'gauge', 'Seconds since the plugin was registered.')
  lines.push(`fastcgi_uptime_seconds ${metrics.uptimeSeconds.toFixed(3)}`)
  family('fastcgi_start_time_seconds', 'gauge', 'Unix time the plugin was registered.')
  lines.push(`fastcgi_start_time_seconds ${(metrics.startedAt / 1000).toFixed(3)}`)

  family('fastcgi_responses_total', 'counter', 'Responses sent in full, by mapping, backend and status class.')
  each((s, base) => STATUS_CLASSES.forEach((c, i) => {
    lines.push(`fastcgi_responses_total${labels({ ...base, status_class: c })} ${s.responses[i] ?? 0}`)
  }))
  family('fastcgi_aborts_total', 'counter', 'Requests whose client went away before the response was sent.')
  each((s, base) => lines.push(`fastcgi_aborts_total${labels(base)} ${s.aborts}`))
  family('fastcgi_retries_total', 'counter', 'Requests sent to this backend after another one could not be reached.')
  each((s, base) => lines.push(`fastcgi_retries_total${labels(base)} ${s.retries}`))
  family('fastcgi_responses_spooled_total', 'counter', 'Responses whose reader was slow enough that the rest of the body went to a temp file (responseSpoolLimit).')
  each((s, base) => lines.push(`fastcgi_responses_spooled_total${labels(base)} ${s.spooled}`))
  family('fastcgi_response_spooled_bytes_total', 'counter', 'Bytes of response bodies that went to temp files for slow readers.')
  each((s, base) => lines.push(`fastcgi_response_spooled_bytes_total${labels(base)} ${s.spooledBytes}`))
  family('fastcgi_timeouts_total', 'counter', 'Timeouts by kind: connect, read, write, queue, send (the client took nothing of the response).')
  each((s, base) => TIMEOUT_KINDS.forEach((k, i) => {
    lines.push(`fastcgi_timeouts_total${labels({ ...base, kind: k })} ${s.timeouts[i] ?? 0}`)
  }))
  family('fastcgi_queue_depth', 'gauge', 'Requests waiting for a slot under maxConcurrency.')
  each((s, base) => lines.push(`fastcgi_queue_depth${labels(base)} ${s.queueDepth}`))
  const histogram = (name: string, help: string, pick: (s: BackendSeries) => Histogram): void => {
    family(name, 'histogram', help)
    each((s, base) => {
      const h = pick(s)
      for (const [le, count] of h.cumulative()) lines.push(`${name}_bucket${labels({ ...base, le: number(le) })} ${count}`)
      lines.push(`${name}_sum${labels(base)} ${h.sum}`, `${name}_count${labels(base)} ${h.count}`)
    })
  }
  histogram('fastcgi_queue_wait_seconds', 'Time requests waited for a slot under maxConcurrency (only those that waited).', (s) => s.queueWait)
  histogram('fastcgi_first_byte_seconds', 'Time from sending the request to the backend until its CGI header block was in.', (s) => s.firstByte)
  histogram('fastcgi_request_duration_seconds', 'Time from the start of the request until the response was sent or the client went away.', (s) => s.total)

  family('fastcgi_backend_respawns_total', 'counter', 'Processes started again at an address that had one before (after an exit or an idle stop).')
  for (const host of pool.hosts) {
    for (const proc of host.procs) {
      const respawns = metrics.respawns.get(proc.address)
      if (respawns === undefined) continue
      lines.push(`fastcgi_backend_respawns_total${labels({ backend: host.name, process: String(proc.id), address: proc.address })} ${respawns}`)
    }
  }
  const perClient = (name: string, type: 'counter' | 'gauge', help: string, pick: (counters: ClientFigures) => number): void => {
    family(name, type, help)
    for (const host of pool.hosts) {
      for (const proc of host.procs) {
        const client = clients.get(proc.address)
        const value = client === undefined ? undefined : pick(client)
        // no cap or no known capacity: no sample (Prometheus reads +Inf poorly in a gauge)
        if (value !== undefined && Number.isFinite(value)) lines.push(`${name}${labels({ backend: host.name, process: String(proc.id), address: proc.address })} ${value}`)
      }
    }
  }
  perClient('fastcgi_backend_connection_retries_total', 'counter', 'Requests sent again on a fresh connection because a kept connection turned out closed by the backend.', (c) => c.retries)
  perClient('fastcgi_backend_dirty_closed_total', 'counter', 'Kept connections closed because bytes came that belonged to no request in progress.', (c) => c.dirtyClosed)
  perClient('fastcgi_backend_connections_opened_total', 'counter', 'Connections opened to the backend (few under load when connections are kept).', (c) => c.connections)
  perClient('fastcgi_backend_concurrency_limit', 'gauge', 'Requests allowed in flight now (absent: no cap).', (c) => c.limit)
  perClient('fastcgi_backend_capacity', 'gauge', 'Requests the backend serves at once as far as known: maxConcurrency, its FCGI_MAX_CONNS, or seen (absent: unknown).', (c) => c.capacity)
  return prometheusText(pool) + lines.join('\n') + '\n'
}
