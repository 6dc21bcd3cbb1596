// The pool's counters in two shapes, the seed's flat names and Prometheus text, and the HTML escaping
// the status page uses. Both are computed from one snapshot so that they cannot disagree.
import type { BackendInfo } from './types'

export interface HostSnapshot {
  readonly name: string
  /** the configured address (base socket path / first port for spawned backends) */
  readonly address: string
  readonly mappingKeys: readonly string[]
  /** the entries configured at this address: several when mappings or roles share it */
  readonly entries: ReadonlyArray<{ readonly mappingKey: string, readonly name: string }>
  readonly load: number
  readonly procs: readonly BackendInfo[]
}

export interface PoolSnapshot {
  readonly requests: number
  readonly activeRequests: number
  readonly hosts: readonly HostSnapshot[]
}

const PROC_COUNTERS = ['connected', 'died', 'overloaded', 'disabled'] as const

/**
 * `fastcgi.requests`, `fastcgi.active-requests`, `fastcgi.backend.<name>.load`,
 * `fastcgi.backend.<name>.<n>.{connected,died,overloaded,load,disabled}`. Backends with the same
 * name add up, as equal labels share counters in lighttpd.
 */
export function statsRecord (snapshot: PoolSnapshot): Record<string, number> {
  const out: Record<string, number> = {
    'fastcgi.requests': snapshot.requests,
    'fastcgi.active-requests': snapshot.activeRequests
  }
  const add = (key: string, value: number): void => {
    out[key] = (out[key] ?? 0) + value
  }
  for (const host of snapshot.hosts) {
    const prefix = `fastcgi.backend.${host.name}`
    add(`${prefix}.load`, host.load)
    for (const proc of host.procs) {
      for (const counter of PROC_COUNTERS) add(`${prefix}.${proc.id}.${counter}`, proc.counters[counter])
      add(`${prefix}.${proc.id}.load`, proc.load)
    }
  }
  return out
}

function labelValue (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function labels (pairs: Record<string, string>): string {
  const inner = Object.entries(pairs).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')
  return `{${inner}}`
}

interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly samples: Array<[string, number]>
}

/** Prometheus text exposition format 0.0.4. */
export function prometheusText (snapshot: PoolSnapshot): string {
  const family = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] })
  const requests = family('fastcgi_requests_total', 'counter', 'Requests assigned to a FastCGI backend.')
  const active = family('fastcgi_active_requests', 'gauge', 'Requests currently assigned to a FastCGI backend.')
  const hostLoad = family('fastcgi_backend_load', 'gauge', 'Requests currently assigned to the backend.')
  const procLoad = family('fastcgi_backend_process_load', 'gauge', 'Requests currently assigned to the process.')
  const up = family('fastcgi_backend_process_up', 'gauge', '1 while the process or remote backend takes requests.')
  const counters = {
    connected: family('fastcgi_backend_connected_total', 'counter', 'Successful connects.'),
    died: family('fastcgi_backend_died_total', 'counter', 'Failed connects and unexpected process exits.'),
    overloaded: family('fastcgi_backend_overloaded_total', 'counter', 'Connects refused because the backend was full.'),
    disabled: family('fastcgi_backend_disabled_total', 'counter', 'Times the backend was taken out of rotation for disableTime.')
  }
  requests.samples.push(['', snapshot.requests])
  active.samples.push(['', snapshot.activeRequests])
  for (const host of snapshot.hosts) {
    hostLoad.samples.push([labels({ backend: host.name, address: host.address }), host.load])
    for (const proc of host.procs) {
      const procLabels = labels({ backend: host.name, process: String(proc.id), address: proc.address })
      procLoad.samples.push([procLabels, proc.load])
      up.samples.push([procLabels, proc.state === 'running' ? 1 : 0])
      for (const counter of PROC_COUNTERS) counters[counter].samples.push([procLabels, proc.counters[counter]])
    }
  }
  const families = [requests, active, hostLoad, procLoad, up, counters.connected, counters.died, counters.overloaded, counters.disabled]
  const lines: string[] = []
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`)
    for (const [l, value] of f.samples) lines.push(`${f.name}${l} ${value}`)
  }
  return lines.join('\n') + '\n'
}

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
