// Several registrations of the plugin (one per prefix, one per virtual host through
// `constraints`) share one `fastify.fastcgi`: the first registration in a context creates it,
// later ones (in that context or below it) add their pool, routes and authorizers to it. The
// counters then cover every registration; reply.fastcgi() picks the registration whose prefix
// and host the request is under.
import type { FastifyRequest } from 'fastify'
import type { BackendInfo } from '../pool'
import type { AuthorizerHook, Authorizers } from './authorizer'
import type { Backends } from './backends'
import { meetsHostConstraint } from './mount'
import type { Responder } from './responder'
import type { ScriptResolver } from './script-resolver'
import type { StatusPage, StatusView } from './status-page'
import type { StatusReport } from '../pool/status-report'

export interface Registration {
  readonly pool: Backends
  readonly resolver: ScriptResolver
  readonly responder: Responder
  readonly authorizers: Authorizers
  readonly statusPage: StatusPage
  readonly constraints: Record<string, unknown> | undefined
}

export class FastcgiRegistry {
  private readonly registrations: Registration[] = []

  add (registration: Registration): void {
    this.registrations.push(registration)
  }

  /** the first registration's pool (each registration has its own) */
  get pool (): Backends {
    const first = this.registrations[0]
    if (first === undefined) throw new Error('fastify-fastcgi: no registration yet')
    return first.pool
  }

  backends (): BackendInfo[] {
    return this.registrations.flatMap((r) => r.pool.backends())
  }

  /** Flat counters; equal names of different registrations add up, as equal labels do in one pool. */
  stats (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const r of this.registrations) {
      for (const [name, value] of Object.entries(r.pool.stats())) out[name] = (out[name] ?? 0) + value
    }
    return out
  }

  /** One exposition; with several registrations each sample says which (`registration` label). */
  prometheus (): string {
    if (this.registrations.length === 1) return (this.registrations[0] as Registration).statusPage.prometheus()
    return mergePrometheus(this.registrations.map((r, i) => ({ label: registrationLabel(r, i), text: r.statusPage.prometheus() })))
  }

  /** The status report; with several registrations, their mappings side by side (each named with its registration). */
  status (): StatusReport {
    const reports = this.registrations.map((r) => r.statusPage.report())
    const first = reports[0]
    if (first === undefined) throw new Error('fastify-fastcgi: no registration yet')
    if (reports.length === 1) return first
    return {
      ...first,
      requests: reports.reduce((sum, r) => sum + r.requests, 0),
      activeRequests: reports.reduce((sum, r) => sum + r.activeRequests, 0),
      mappings: reports.flatMap((report, i) => report.mappings.map((m) => ({ ...m, mapping: `${registrationLabel(this.registrations[i] as Registration, i)} ${m.mapping}` })))
    }
  }

  /** every registration's figures, as the status route shows them */
  statusView (): StatusView {
    return { report: () => this.status(), prometheus: () => this.prometheus() }
  }

  authorizer (name: string): AuthorizerHook {
    let first: unknown
    for (const r of this.registrations) {
      try {
        return r.authorizers.hook(name)
      } catch (err) {
        first ??= err
      }
    }
    throw first
  }

  /**
   * The registration for reply.fastcgi(): under its host constraint and its prefix (the
   * longest one), holding `mapping` when one is named; else the first registration.
   */
  responderFor (request: FastifyRequest, mapping: string | undefined): Responder {
    const urlPath = (request.raw.url ?? '/').split('?')[0] ?? '/'
    let best: Registration | undefined
    for (const r of this.registrations) {
      if (!meetsHostConstraint(r.constraints, request) || r.resolver.mount.local(urlPath) === undefined) continue
      if (mapping !== undefined && r.resolver.mapping(mapping) === undefined) continue
      if (best === undefined || r.resolver.mount.prefix.length > best.resolver.mount.prefix.length) best = r
    }
    const chosen = best ?? this.registrations.find((r) => mapping !== undefined && r.resolver.mapping(mapping) !== undefined) ?? this.registrations[0]
    if (chosen === undefined) throw new Error('fastify-fastcgi: no registration yet')
    return chosen.responder
  }
}

function registrationLabel (r: Registration, index: number): string {
  const host = r.constraints?.host
  const where = (typeof host === 'string' ? host : host instanceof RegExp ? String(host) : '') + (r.resolver.mount.prefix === '' ? '/' : r.resolver.mount.prefix)
  return `${where}#${index}`
}

/** Families of several expositions merged, each sample labelled with its registration. */
function mergePrometheus (parts: ReadonlyArray<{ label: string, text: string }>): string {
  const families = new Map<string, { head: string[], samples: string[] }>()
  for (const { label, text } of parts) {
    let current: { head: string[], samples: string[] } | undefined
    for (const line of text.split('\n')) {
      if (line === '') continue
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line)
      if (meta !== null) {
        const name = meta[2] as string
        let family = families.get(name)
        if (family === undefined) {
          family = { head: [], samples: [] }
          families.set(name, family)
        }
        if (family.head.length < 2 && !family.head.some((h) => h.startsWith(`# ${meta[1] as string} `))) family.head.push(line)
        current = family
        continue
      }
      if (line.startsWith('#') || current === undefined) continue
      current.samples.push(withLabel(line, label))
    }
  }
  const lines: string[] = []
  for (const family of families.values()) lines.push(...family.head, ...family.samples)
  return lines.join('\n') + '\n'
}

function withLabel (sample: string, value: string): string {
  const pair = `registration="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(sample)
  if (match === null) return sample
  const name = match[1] as string
  if (match[2] === '{') return `${name}{${pair}${sample.charAt(name.length + 1) === '}' ? '' : ','}${sample.slice(name.length + 1)}`
  return `${name}{${pair}}${sample.slice(name.length)}`
}
