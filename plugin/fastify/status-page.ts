// The status route: the pool and the request metrics as Prometheus text, JSON or HTML, chosen by
// `?format=` or else by Accept. It shows pids and addresses: the route takes Fastify route
// options (onRequest, preValidation, preHandler, config, constraints) so users can guard it.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler, preValidationHookHandler } from 'fastify'
import { InvalidOptionError } from '../errors'
import type { BackendClientStats } from '../client/backend-client'
import type { Backends } from './backends'
import type { RequestMetrics } from '../pool/metrics'
import { statusPrometheus, statusReport } from '../pool/status-report'
import type { ClientCounters, StatusReport } from '../pool/status-report'
import { statusHtmlPage } from '../pool/status-html'

type Hooks<H> = H | H[]

/** `status` option: the status route's URL and route options. */
export interface StatusRouteOptions {
  url: string
  onRequest?: Hooks<onRequestHookHandler>
  preValidation?: Hooks<preValidationHookHandler>
  preHandler?: Hooks<preHandlerHookHandler>
  /** the route's `config` (for example @fastify/rate-limit's per-route settings) */
  config?: Record<string, unknown>
  constraints?: Record<string, unknown>
}

export type StatusRouteConfig = Readonly<StatusRouteOptions>

const HOOK_KEYS = ['onRequest', 'preValidation', 'preHandler'] as const
const STATUS_KEYS = ['url', ...HOOK_KEYS, 'config', 'constraints']

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkUrl (where: string, url: unknown): string {
  if (typeof url !== 'string' || !url.startsWith('/')) throw new InvalidOptionError(`${where} must be a URL path starting with /, got ${JSON.stringify(url)}`)
  return url
}

/** `statusUrl` (a path) or `status` (a path plus route options), validated; undefined: no status route. */
export function normalizeStatusRoute (statusUrl: unknown, status: unknown): StatusRouteConfig | undefined {
  if (status === undefined) return statusUrl === undefined ? undefined : { url: checkUrl('statusUrl', statusUrl) }
  if (statusUrl !== undefined) throw new InvalidOptionError('statusUrl and status are both set: expected one of them (status.url replaces statusUrl)')
  if (!isRecord(status)) throw new InvalidOptionError(`status must be an object ({ url: '/fastcgi-status', preHandler, ... }), got ${JSON.stringify(status)}`)
  for (const key of Object.keys(status)) {
    if (!STATUS_KEYS.includes(key)) throw new InvalidOptionError(`status.${key} is not a status route option (expected one of: ${STATUS_KEYS.join(', ')})`)
  }
  const route: StatusRouteOptions = { url: checkUrl('status.url', status.url) }
  for (const key of HOOK_KEYS) {
    const hook = status[key]
    if (hook === undefined) continue
    const ok = typeof hook === 'function' || (Array.isArray(hook) && hook.length > 0 && hook.every((h) => typeof h === 'function'))
    if (!ok) throw new InvalidOptionError(`status.${key} must be a hook function or an array of them, got ${typeof hook === 'object' ? JSON.stringify(hook) : typeof hook}`)
    // checked just above: a function or an array of functions, as Fastify takes them
    Object.assign(route, { [key]: hook })
  }
  for (const key of ['config', 'constraints'] as const) {
    const value = status[key]
    if (value === undefined) continue
    if (!isRecord(value)) throw new InvalidOptionError(`status.${key} must be an object, got ${JSON.stringify(value)}`)
    route[key] = value
  }
  return route
}

export type StatusFormat = 'prometheus' | 'json' | 'html'

const MEDIA_TYPES: ReadonlyArray<[StatusFormat, string]> = [
  ['prometheus', 'text/plain'],
  ['json', 'application/json'],
  ['html', 'text/html']
]

/**
 * The format an Accept header prefers (q-values, specific ranges over wildcards); Prometheus text
 * when nothing we offer is asked for, since scrapers send varied Accept headers.
 */
export function negotiateFormat (accept: string | undefined): StatusFormat {
  if (accept === undefined || accept.trim() === '') return 'prometheus'
  let best: StatusFormat = 'prometheus'
  let bestQ = 0
  let bestSpecific = false
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q) || q <= 0) continue
    for (const [format, type] of MEDIA_TYPES) {
      const specific = range === type
      const matches = specific || range === '*/*' || range === `${type.split('/')[0] ?? ''}/*`
      if (!matches) continue
      if (q > bestQ || (q === bestQ && specific && !bestSpecific)) {
        best = format
        bestQ = q
        bestSpecific = specific
      }
    }
  }
  return best
}

/** What a status route shows: one moment's figures as a report and as Prometheus text. */
export interface StatusView {
  report (): StatusReport
  prometheus (): string
}

/** One registration's figures: its pool, its clients and its request metrics. */
export class StatusPage implements StatusView {
  constructor (private readonly pool: Backends, private readonly metrics: RequestMetrics) {}

  report (): StatusReport {
    return statusReport(this.pool.snapshot(), this.metrics.snapshot(), this.clientCounters())
  }

  prometheus (): string {
    return statusPrometheus(this.pool.snapshot(), this.metrics.snapshot(), this.clientCounters())
  }

  private clientCounters (): ClientCounters {
    const out = new Map<string, BackendClientStats>()
    for (const [address, client] of this.pool.clients()) out.set(address, client.stats())
    return out
  }
}

/** Sends the view as JSON, HTML or Prometheus text, by `?format=` or else by Accept. */
export function sendStatus (view: StatusView, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const asked = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('format')
  reply.header('cache-control', 'no-store').header('vary', 'Accept')
  let format: StatusFormat
  if (asked === null) format = negotiateFormat(request.headers.accept)
  else if (asked === 'json' || asked === 'html' || asked === 'prometheus') format = asked
  else return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `format must be json, html or prometheus, got ${JSON.stringify(asked)}` })
  switch (format) {
    case 'json': return reply.type('application/json; charset=utf-8').send(JSON.stringify(view.report()))
    case 'html': return reply.type('text/html; charset=utf-8').send(statusHtmlPage(view.report()))
    case 'prometheus': return reply.type('text/plain; version=0.0.4; charset=utf-8').send(view.prometheus())
  }
}

/** The route shows `view`: with several registrations sharing fastify.fastcgi, all of them. */
export function registerStatusRoute (fastify: FastifyInstance, route: StatusRouteConfig, view: StatusView): void {
  fastify.route({
    method: 'GET',
    ...route,
    handler: (request, reply) => sendStatus(view, request, reply)
  })
}
