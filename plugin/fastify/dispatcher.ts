// Sending one request to one of a mapping's backends: pick (the pool balances), send through the
// backend's own client, try another backend when one cannot be reached, fail over a bounded
// number of times, and turn a failure into what the client may see. Resolves at the response
// head; the backend is released once its body has been read.
import assert from 'node:assert'
import { finished } from 'node:stream'
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { connectFailureKind } from '../client/connect'
import { Cancellation, cancellationFromSignal } from '../client/cancellation'
import type { FastcgiResponse, RequestBody, ResponseSpillOptions } from '../client/exchange'
import { Role } from '../protocol'
import type { PickHint } from '../pool'
import { BackendFailureError, NoBackendError, OverloadedError, PoolClosedError, QueueFullError, QueueTimeoutError } from '../errors'
import { backendLabel } from '../pool/metrics'
import type { RequestMeasure } from '../pool/metrics'
import type { Backend, Backends } from './backends'
import { StderrLog } from './stderr-log'
import type { HostConfig, MappingConfig } from './options'

/** One request to one of a mapping's backends, as dispatch() sends it. */
export interface Dispatch {
  readonly mapping: MappingConfig
  readonly role: 'responder' | 'authorizer'
  /** which of the mapping's hosts (of that role) may take it; default all */
  readonly accept?: (host: HostConfig) => boolean
  /** the params for the host that was picked (docroot and the like are per host) */
  readonly params: (host: HostConfig) => Array<[string, string]>
  readonly body: RequestBody | undefined
  /** ms the client may send nothing of a body streamed to the backend (clientBodyTimeout); 0 or none: no deadline */
  readonly bodyTimeout?: number
  /** cancelled when the client goes away (the responder path) */
  readonly cancellation?: Cancellation
  /** the same, for callers that hold an AbortSignal (the authorizer) */
  readonly signal?: AbortSignal
  readonly hint: PickHint
  /** this request's figures: each attempt, its response head, its failures */
  readonly measure?: RequestMeasure
}

export interface Dispatched {
  readonly response: FastcgiResponse
  readonly host: HostConfig
}

/** ms between two warnings that responses cannot be spooled (a missing or full spoolDirectory) */
const SPOOL_WARNING_INTERVAL = 60_000

/** Where responses go while their clients read slower than the backend sends; undefined when responseSpoolLimit is 0. */
export function responseSpillFor (config: { readonly responseSpoolLimit: number, readonly spoolDirectory: string }, log: FastifyBaseLogger): ResponseSpillOptions | undefined {
  if (config.responseSpoolLimit === 0) return undefined
  let warnedAt = -Infinity
  return {
    directory: config.spoolDirectory,
    limit: config.responseSpoolLimit,
    onUnavailable: (err) => {
      const now = Date.now()
      if (now - warnedAt < SPOOL_WARNING_INTERVAL) return
      warnedAt = now
      log.warn({ err, spoolDirectory: config.spoolDirectory }, 'cannot spool a response for a slow client (spoolDirectory): its backend waits for the client meanwhile')
    }
  }
}

const MAX_BACKEND_ATTEMPTS = 5
/** ms a request waits for a backend process that is being spawned */
const SPAWN_WAIT = 5000

export class Dispatcher {
  /** requests waiting for a spawn: one listener on the pool for all of them, not one each */
  private readonly spawnWaiters = new Set<() => void>()
  private readonly onSpawned = (): void => {
    for (const waiter of [...this.spawnWaiters]) waiter()
  }

  /**
   * Response bodies still on their way to clients. Once a backend is done, a body spooled for a
   * slow client is no longer tied to any backend connection: cutResponses() is what ends it
   * when the app closes.
   */
  private readonly bodies = new Set<Readable>()

  /** @param responseSpill where responses go while their clients are behind; undefined: never (responseSpoolLimit 0) */
  constructor (private readonly pool: Backends, private readonly responseSpill?: ResponseSpillOptions) {}

  /** Cuts every response body still being sent (closeGrace is over). */
  cutResponses (): void {
    for (const body of this.bodies) body.destroy(new PoolClosedError())
    this.bodies.clear()
  }

  /**
   * Picks a backend of the mapping (the pool balances), sends the request, and tries another
   * backend when one cannot be reached (up to MAX_BACKEND_ATTEMPTS). Resolves at the response
   * head; the backend is released once its body has been read. None reachable: NoBackendError
   * (or the last connect error), 503 with Retry-After.
   */
  async dispatch (request: FastifyRequest, reply: FastifyReply, d: Dispatch): Promise<Dispatched> {
    const tried = new Set<Backend>()
    const cancellation = d.cancellation ?? (d.signal === undefined ? undefined : cancellationFromSignal(d.signal))
    const accept = (host: HostConfig): boolean => host.mode === d.role && (d.accept === undefined || d.accept(host))
    let lastError: unknown
    let lastBackend = d.mapping.key
    let attempts = 0
    let waitedForSpawn = false
    // bounded: each turn counts an attempt, except the one wait for a process being spawned
    while (attempts < MAX_BACKEND_ATTEMPTS) {
      const proc = this.pool.pick(d.mapping.key, d.hint, tried, accept)
      if (proc === undefined) {
        // minProcs 0 (or a respawn under way): wait once for the process being started, as
        // lighttpd does, instead of a 503 the client would have to retry
        if (waitedForSpawn || tried.size > 0 || !await this.spawnUnderWay(d.mapping.key)) break
        waitedForSpawn = true
        continue
      }
      tried.add(proc)
      attempts++
      // the process carries its entries and its client: decided at register(), not here
      const host = proc.entryFor(d.mapping.key, accept)
      const client = proc.client
      assert(host !== undefined && client !== undefined, 'a picked backend has an accepted entry and a client')
      const backendName = `${host.name === '' ? d.mapping.key : host.name} ${client.name}`
      const measure = d.measure
      // a retry: an earlier backend of this dispatch could not be reached (a local redirect's next hop is a dispatch of its own)
      measure?.attempt(d.mapping.key, backendLabel(host.name, host.address), attempts > 1)
      // this attempt's STDERR as one record; created at its first chunk, as most requests write none
      let stderr: StderrLog | undefined
      try {
        const response = await client.request({
          role: d.role === 'authorizer' ? Role.AUTHORIZER : Role.RESPONDER,
          params: d.params(host),
          body: d.body,
          cancellation,
          // an entry's timeouts hold for its requests, also on an address it shares (backends.ts)
          connectTimeout: host.connectTimeout,
          readTimeout: host.readTimeout,
          writeTimeout: host.writeTimeout,
          sendTimeout: host.sendTimeout,
          bodyTimeout: d.bodyTimeout,
          responseSpill: this.responseSpill,
          spoolWatcher: measure,
          onStderr: (chunk) => { (stderr ??= new StderrLog(request.log, backendName)).push(chunk) },
          queueWatcher: measure
        })
        measure?.head()
        this.pool.reportConnect(proc, 'connected')
        if (response.complete !== undefined) {
          stderr?.flush()
          this.pool.release(proc)
        } else {
          // the backend is free once its part is over, also while a slow client still reads the rest from a temp file
          response.whenBackendDone(() => this.pool.release(proc))
          const body = response.body
          this.bodies.add(body)
          finished(body, (err) => {
            this.bodies.delete(body)
            stderr?.flush()
            if (err !== undefined && err !== null) measure?.failed(err)
          })
        }
        return { response, host }
      } catch (err) {
        stderr?.flush()
        measure?.failed(err)
        this.pool.release(proc)
        const failure = connectFailureKind(err)
        if (failure === undefined) {
          // the backend is there but cannot take this request now: the client may come back
          if (err instanceof QueueFullError || err instanceof QueueTimeoutError || err instanceof OverloadedError) reply.header('retry-after', '1')
          throw forClient(request.log, backendName, err)
        }
        this.pool.reportConnect(proc, failure)
        request.log.warn({ backend: backendName, err }, 'FastCGI backend unreachable; trying another one')
        lastError = err
        lastBackend = backendName
      }
    }
    reply.header('retry-after', String(this.pool.retryAfterSeconds(d.mapping.key)))
    throw forClient(request.log, lastBackend, lastError ?? new NoBackendError(`every backend for ${d.mapping.key} is down or disabled`))
  }

  /** Resolves true once a process of the key that is starting has spawned (within SPAWN_WAIT ms). */
  private async spawnUnderWay (mappingKey: string): Promise<boolean> {
    const starting = this.pool.backends().some((b) => b.state === 'starting' && b.mappingKeys.includes(mappingKey))
    if (!starting) return false
    const spawned = await new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer)
        this.spawnWaiters.delete(onSpawned)
        if (this.spawnWaiters.size === 0) this.pool.off('spawned', this.onSpawned)
        resolve(result)
      }
      const onSpawned = (): void => done(true)
      const timer = setTimeout(() => done(false), SPAWN_WAIT)
      if (this.spawnWaiters.size === 0) this.pool.on('spawned', this.onSpawned)
      this.spawnWaiters.add(onSpawned)
    })
    return spawned
  }
}

/** The balancing hint, computed only when a picker asks (hash and sticky do; most do not). */
export class RequestHint implements PickHint {
  constructor (private readonly request: FastifyRequest, readonly path: string) {}

  get host (): string {
    return (this.request.headers.host ?? '').toLowerCase()
  }

  get clientAddress (): string {
    return this.request.ip
  }
}

const PUBLIC_MESSAGES: Readonly<Record<number, string>> = {
  502: 'The FastCGI backend failed to give a usable response',
  503: 'No FastCGI backend is available to take the request',
  504: 'The FastCGI backend did not answer in time'
}

/**
 * A backend failure as the client may see it: same code and status, a message without
 * addresses or timeouts. The details go to the request's log (with its id) first.
 */
function forClient (log: FastifyBaseLogger, backend: string, err: unknown): unknown {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string' || !('statusCode' in err) || typeof err.statusCode !== 'number') return err
  const message = PUBLIC_MESSAGES[err.statusCode]
  if (message === undefined) return err
  log.error({ backend, err }, err.message)
  return new BackendFailureError(err.code, err.statusCode, message)
}
