// All connections to one backend address: kept connections (FCGI_KEEP_CONN) for reuse, the
// slots of its concurrency limit (ConcurrencyLimit: a cap, or the capacity the backend is
// seen to serve), and the one retry that makes php-fpm's worker recycling invisible to clients.
//
// Kept connections are dangerous with prefork backends (php-fpm, php-cgi): each one pins a
// worker, and the backend is often shared (several gateway processes, lighttpd, a cron job on
// one php-fpm pool). Nobody else may wait for a worker that sits on our idle connection, so
// an idle connection is kept only while it is likely to be used at once:
// - it lingers at most keepAliveLinger (100 ms; keepAliveTimeout when that is shorter) after
//   its last request: continuous load reuses it within microseconds, and a pause gives every
//   worker back to the other clients of the backend at once;
// - idle connections never exceed keepAliveMaxIdle, nor, when the backend's capacity is known
//   (maxConcurrency or its FCGI_MAX_CONNS), capacity - 1, beyond what requests already
//   holding a slot will take: a burst's connections do not all stay; nor what the limit in
//   force leaves to requests beside the busy connections (no request could take the rest);
// - the backend looks short (a fresh connection of ours was overtaken, see AcceptQueueWatch, or a
//   connect is refused as overloaded or times out): connections coming back are closed, and
//   on a failed connect so are the idle ones, which frees the workers the waiting one needs;
// - an idle connection is always used before a new one is opened, newest first, so that the
//   oldest ones time out;
// - a connection open for KEEP_ALIVE_TURN is closed when it comes back, busy or not: under
//   continuous load our connections would otherwise keep their workers for as long as the load
//   lasts, and another client's connection would wait in the accept queue until it timed out.
//   Its worker takes the oldest connection waiting, whoever's it is; the price is one connect
//   per connection per turn.
//
// keepAlive 'auto' asks the backend FCGI_GET_VALUES first (probe-values). One that answers
// (php-fpm, php-cgi, Go) reads a kept connection again as soon as a request ends; libfcgi,
// which answers only a padded question, may not (its threaded accept pattern), so its
// connections are reused only once a worker shows it reads them (reading-check).
import type { Readable } from 'node:stream'
import type { BackendAddress } from './address'
import { formatAddress } from './address'
import { connectSocket } from './connect'
import { VALUE_NAMES, probeBackend } from './probe-values'
import type { ProbeOutcome } from './probe-values'
import { ReadingCheck } from './reading-check'
import { AcceptQueueWatch } from './accept-queue-watch'
import { ConcurrencyLimit, Slot } from './concurrency-limit'
import { BackendConnection } from './connection'
import { FastcgiExchange, isReplayable } from './exchange'
import type { FastcgiResponse, RequestBody, ResponseSpillOptions, SpoolWatcher } from './exchange'
import type { Cancellation } from './cancellation'
import type { NameValuePair, Role } from '../protocol'
import { ClientAbortedError, ConnectTimeoutError, OverloadedError, PoolClosedError, PrematureCloseError, StaleRecordError } from '../errors'

export interface BackendClientOptions {
  readonly address: BackendAddress
  /** ms; 0 = none */
  readonly connectTimeout: number
  /** ms of backend silence while a response is awaited; 0 = none */
  readonly readTimeout: number
  /** ms the backend may refuse to take request data; 0 = none */
  readonly writeTimeout: number
  /** ms the reader of a response may take nothing while the backend waits for it; 0 or unset = none */
  readonly sendTimeout?: number
  /**
   * reuse connections; 'auto': when the backend answers FCGI_GET_VALUES (see probe-values), and
   * for libfcgi (which answers only a padded one) once a worker has shown it reads the connection
   */
  readonly keepAlive: KeepAlive
  readonly keepAliveMaxIdle: number
  /** ms an idle kept connection stays open at most */
  readonly keepAliveTimeout: number
  /**
   * ms an idle kept connection stays open after its last request when no other request takes
   * it (the effective idle time is the smaller of this and keepAliveTimeout); default 100
   */
  readonly keepAliveLinger?: number
  /** ms a kept connection serves before it is closed on its return, busy or not; default KEEP_ALIVE_TURN */
  readonly keepAliveTurn?: number
  /**
   * requests in flight at once (php-fpm: pm.max_children); Infinity = no cap; 'auto': the
   * backend's FCGI_MAX_CONNS where the keepAlive 'auto' probe gets one, else no cap
   */
  readonly maxConcurrency: number | 'auto'
  /** requests allowed to wait for a slot beyond the cap */
  readonly queueLimit: number
  /** ms a request may wait for a slot */
  readonly queueTimeout: number
  /** CGI header block limit in bytes */
  readonly headerLimit: number
  /** told once when keepAlive 'auto' stops keeping connections (a libfcgi app whose threads did not read one) */
  readonly onReuseOff?: () => void
}

export interface BackendRequest {
  readonly role: Role
  readonly params: readonly NameValuePair[]
  readonly body: RequestBody | undefined
  /** cancelled when the client goes away: the request leaves the queue or its backend connection is dropped */
  readonly cancellation?: Cancellation
  readonly onStderr?: (chunk: Buffer) => void
  /** told when the request starts and stops waiting for a slot under maxConcurrency (metrics) */
  readonly queueWatcher?: QueueWatcher
  /**
   * This request's own timeouts, for a client shared by host entries that name one address
   * with different ones (each entry's timeouts hold for its requests); default: the client's
   */
  readonly connectTimeout?: number
  readonly readTimeout?: number
  readonly writeTimeout?: number
  readonly sendTimeout?: number
  /** ms the client may send nothing of a body streamed from it (a Readable body); 0 or unset = none */
  readonly bodyTimeout?: number
  /** where a response whose reader is behind may go, freeing the backend; undefined: the backend waits for the reader */
  readonly responseSpill?: ResponseSpillOptions
  /** told of the bytes of a response body that went to a temp file (metrics) */
  readonly spoolWatcher?: SpoolWatcher
}

export type KeepAlive = boolean | 'auto'

/** Default keepAliveLinger: far above the gap between requests under load, far below what another client of the backend should wait. */
export const KEEP_ALIVE_LINGER = 100

/** ms a kept connection serves before it gives its worker back to the backend's accept queue */
export const KEEP_ALIVE_TURN = 100

export interface QueueWatcher {
  enterQueue (): void
  leaveQueue (): void
}

/** ms the FCGI_GET_VALUES probe of keepAlive: 'auto' waits for an answer */
const PROBE_TIMEOUT = 500

/** ms before a backend that could not be probed (down, restarting) is probed again; its requests meanwhile keep no connection */
const PROBE_RETRY = 1000

/**
 * What keepAlive 'auto' found: reuse (true), none (false), or reuse of a connection only after
 * a worker answers FCGI_GET_VALUES on it while it is idle ('ask': libfcgi).
 */
type KeepAliveMode = boolean | 'ask'

export interface BackendClientStats {
  readonly inFlight: number
  readonly queued: number
  readonly idle: number
  readonly open: number
  readonly retries: number
  /** connections opened so far */
  readonly connections: number
  /** kept connections closed because bytes came that belonged to no request in progress */
  readonly dirtyClosed: number
  /** requests allowed in flight now (Infinity: no cap) */
  readonly limit: number
  /** the backend's capacity as far as known: maxConcurrency, its FCGI_MAX_CONNS or what it was seen to serve at once (Infinity: unknown) */
  readonly capacity: number
}

export class BackendClient {
  readonly name: string
  private readonly idle: BackendConnection[] = []
  private readonly open = new Set<BackendConnection>()
  private readonly slots: ConcurrencyLimit
  /** our fresh connections that may wait in the backend's accept queue */
  private readonly acceptQueue = new AcceptQueueWatch()
  /** connects under way: each is a request that will not take an idle connection */
  private connecting = 0
  private retries = 0
  private connections = 0
  private dirtyClosed = 0
  private closed = false
  /** destroy() was called: a connect still under way must not outlive it */
  private destroyed = false
  /** keepAlive 'auto' resolved by the probe, once per client (again after PROBE_RETRY when it could not ask) */
  private probe: Promise<void> | undefined
  /** what the probe found, once it has come */
  private probedMode: KeepAliveMode | undefined
  /** mode 'ask': the returning connections not yet answered, and the requests waiting for them */
  private readonly readingCheck = new ReadingCheck((connection) => this.keepAnswered(connection), () => {
    // libfcgi's threaded accept: a connection per request, and no cap (its threads take any)
    if (this.probedMode === false) return
    this.probedMode = false
    if (this.options.maxConcurrency === 'auto') this.slots.stopDiscovering()
    this.options.onReuseOff?.()
  })

  constructor (readonly options: BackendClientOptions) {
    this.name = formatAddress(options.address)
    const { maxConcurrency, queueLimit, queueTimeout } = options
    this.slots = new ConcurrencyLimit(this.name, { cap: maxConcurrency === 'auto' ? Infinity : maxConcurrency, queueLimit, queueTimeout })
    // keepAlive 'auto' decides after the FCGI_GET_VALUES probe, which may report FCGI_MAX_CONNS
    if (maxConcurrency === 'auto' && options.keepAlive === true) this.slots.discover()
  }

  stats (): BackendClientStats {
    const { slots } = this
    return {
      inFlight: slots.inFlight,
      queued: slots.queued,
      idle: this.idle.length,
      open: this.open.size,
      retries: this.retries,
      connections: this.connections,
      dirtyClosed: this.dirtyClosed,
      limit: slots.current,
      capacity: slots.capacity
    }
  }

  /**
   * Sends one request. Resolves once the CGI header block is parsed; the body streams after.
   * A connect failure rejects with ConnectError / ConnectTimeoutError / OverloadedError before
   * anything was sent, so the caller may try another backend.
   */
  request (req: BackendRequest): Promise<FastcgiResponse> {
    if (this.closed) return Promise.reject(new PoolClosedError())
    // The hot path, with no await before the request is written: the keep-alive question is
    // settled, a slot is free and a kept connection is waiting.
    if (this.mode !== undefined && this.idle.length > 0 && this.slots.tryTake()) {
      return this.send(req, new Slot(this.slots))
    }
    return this.requestWaiting(req)
  }

  /** What `request` does when it must wait: for the probe, then for a slot. */
  private async requestWaiting (req: BackendRequest): Promise<FastcgiResponse> {
    if (this.options.keepAlive === 'auto') {
      this.probe ??= probeBackend(this.options.address, { connectTimeout: PROBE_TIMEOUT, answerTimeout: PROBE_TIMEOUT, names: VALUE_NAMES, padded: false })
        .then((outcome) => this.settleKeepAlive(outcome))
      await this.probe
    }
    const waiting = this.slots.take(req.cancellation)
    if (waiting !== undefined) {
      req.queueWatcher?.enterQueue()
      try {
        await waiting
      } finally {
        req.queueWatcher?.leaveQueue()
      }
    }
    return await this.send(req, new Slot(this.slots))
  }

  /** keepAlive as it stands: the option, or for 'auto' what the probe found (undefined: not yet). */
  private get mode (): KeepAliveMode | undefined {
    return this.options.keepAlive === 'auto' ? this.probedMode : this.options.keepAlive
  }

  /** What the keepAlive 'auto' probe found: answered, silent (libfcgi), or nothing to go by. */
  private settleKeepAlive (outcome: ProbeOutcome): void {
    if (outcome.kind !== 'answered' && outcome.kind !== 'silent') {
      // down, restarting or not FastCGI: no reuse for now, and the question again later
      setTimeout(() => { this.probe = undefined }, PROBE_RETRY).unref()
      return
    }
    this.probedMode = outcome.kind === 'silent' ? 'ask' : true
    if (this.options.maxConcurrency === 'auto') {
      const reported = reportedMaxConns(outcome.kind === 'answered' ? outcome.values : undefined)
      if (reported !== Infinity) this.slots.setCap(reported)
      else this.slots.discover()
    }
  }

  /**
   * Holding a slot: sends on a kept connection when one is idle (once more on a fresh one if it
   * turns out stale), else on a fresh one. The slot goes back when no response comes.
   */
  private async send (req: BackendRequest, slot: Slot): Promise<FastcgiResponse> {
    try {
      // a request cancelled before it starts never starts: no connection taken, nothing written
      if (isCancelled(req)) throw new ClientAbortedError()
      let idle = this.takeIdle()
      if (idle === undefined) {
        const answered = await this.readingCheck.next()
        if (answered !== undefined && (this.closed || isCancelled(req))) this.keepAnswered(answered)
        else idle = answered?.closed === true ? undefined : answered
        if (this.closed) throw new PoolClosedError()
        if (isCancelled(req)) throw new ClientAbortedError()
      }
      if (idle !== undefined) {
        try {
          return await this.exchange(idle, req, false, slot)
        } catch (err) {
          if (!(err instanceof StaleConnectionError)) throw err
          this.retries++
        }
      }
      const fresh = await this.connectOrFreeIdle(req.connectTimeout ?? this.options.connectTimeout)
      if (isCancelled(req)) {
        // cancelled while connecting: the connection has carried nothing and may serve another
        this.keep(fresh)
        throw new ClientAbortedError()
      }
      return await this.exchange(fresh, req, true, slot)
    } catch (err) {
      slot.release()
      throw err
    }
  }

  /** Closes idle connections and refuses new requests; requests in flight finish. */
  close (): void {
    this.closed = true
    this.slots.close()
    this.closeIdle()
  }

  /** Drops every connection, busy ones included. */
  destroy (): void {
    this.destroyed = true
    this.close()
    for (const connection of [...this.open]) connection.destroy()
  }

  /** A backend too busy to accept a connection gets the workers our idle connections hold. */
  private async connectOrFreeIdle (timeout: number): Promise<BackendConnection> {
    try {
      return await this.connect(timeout)
    } catch (err) {
      if (err instanceof OverloadedError || err instanceof ConnectTimeoutError) this.closeIdle()
      throw err
    }
  }

  private closeIdle (): void {
    for (const connection of this.idle.splice(0)) connection.destroy()
    this.readingCheck.close()
  }

  private async connect (timeout: number): Promise<BackendConnection> {
    this.connecting++
    let socket
    try {
      socket = await connectSocket(this.options.address, timeout)
    } finally {
      this.connecting--
    }
    // destroy() dropped every open connection while this one was on its way (app.close())
    if (this.destroyed) {
      socket.destroy()
      throw new PoolClosedError()
    }
    const connection = new BackendConnection(socket, this.name, (gone) => this.forget(gone))
    this.connections++
    this.open.add(connection)
    return connection
  }

  private exchange (connection: BackendConnection, req: BackendRequest, fresh: boolean, slot: Slot): Promise<FastcgiResponse> {
    const { options, mode } = this
    let counted = fresh
    if (fresh) this.acceptQueue.freshSent()
    const uncount = (): void => {
      if (counted) {
        counted = false
        this.acceptQueue.freshDone(connection.answered)
      }
    }
    const exchange = new FastcgiExchange(connection, {
      role: req.role,
      params: req.params,
      body: req.body,
      // read when the request is written: keepAlive 'auto' may have changed while it waited
      keepConn: mode === true || mode === 'ask',
      readTimeout: req.readTimeout ?? options.readTimeout,
      writeTimeout: req.writeTimeout ?? options.writeTimeout,
      sendTimeout: req.sendTimeout ?? options.sendTimeout ?? 0,
      bodyTimeout: req.bodyTimeout ?? 0,
      headerLimit: options.headerLimit,
      onStderr: req.onStderr,
      spill: req.responseSpill,
      spoolWatcher: req.spoolWatcher
    }, (finished, reusable) => {
      uncount()
      req.cancellation?.unwatch(finished)
      // before a response, the caller decides (it may retry within the same slot)
      if (finished.responded) slot.release()
      if (reusable) connection.release(() => this.keep(connection))
    })
    req.cancellation?.watch(exchange)
    exchange.start()
    return exchange.head.then((response) => {
      uncount()
      if (fresh && this.slots.discovering) this.slots.freshAnswered(this.answeredConnections(connection))
      return response
    }, (err: unknown) => {
      uncount()
      // A kept connection that the backend had already closed (php-fpm's pm.max_requests)
      // fails before any byte comes back: send the request again on a fresh connection.
      // So does one that still held a record meant for an earlier request.
      if (!fresh && !exchange.receivedAnything && (err instanceof PrematureCloseError || err instanceof StaleRecordError) &&
        (isReplayable(req.body) || !exchange.bodyConsumed) && req.cancellation?.cancelled !== true) {
        throw new StaleConnectionError(err)
      }
      throw err
    })
  }

  private keep (connection: BackendConnection): void {
    if (connection.closed) return
    // a fresh connection of ours waits for a worker while this one overtook it: this one is
    // closed to give it one (before that, closing would cost a reconnect for nothing, and its
    // answer while this one is open is how a discovered capacity grows)
    const waiting = this.acceptQueue.overtakenBy(this.open, connection)
    const short = waiting !== undefined
    if (short) this.slots.overtaken(this.acceptQueue.share(waiting, () => this.answeredConnections(undefined)))
    if (this.closed || short || this.idle.length >= this.idleLimit(connection) || performance.now() - connection.openedAt >= (this.options.keepAliveTurn ?? KEEP_ALIVE_TURN)) {
      connection.destroy()
      return
    }
    // keepAlive 'auto' on libfcgi: ask (reading-check), unless its threads were seen not to read;
    // a connection that never served a request would prove nothing by its silence
    const { mode } = this
    if (this.options.keepAlive === 'auto' && mode !== true && (mode !== 'ask' || !connection.answered)) {
      connection.destroy()
      return
    }
    const { keepAliveTimeout, keepAliveLinger = KEEP_ALIVE_LINGER } = this.options
    connection.startIdleTimer(Math.min(keepAliveTimeout, keepAliveLinger))
    if (mode === 'ask') this.readingCheck.ask(connection)
    else this.idle.push(connection)
  }

  /** A libfcgi connection whose worker answered while it was idle: it may serve again. */
  private keepAnswered (connection: BackendConnection): void {
    // its linger has run since it came back; others may have filled the idle places meanwhile
    if (this.closed || this.probedMode === false || this.idle.length >= this.idleLimit(connection)) connection.destroy()
    else this.idle.push(connection)
  }

  /** Open connections the backend has answered on, but `except`: each holds one of its workers. */
  private answeredConnections (except: BackendConnection | undefined): number {
    let count = 0
    for (const connection of this.open) if (connection !== except && connection.answered && !connection.closed) count++
    return count
  }

  /** How many idle connections may stay, with `returning` not counted as busy. */
  private idleLimit (returning: BackendConnection): number {
    const { keepAliveMaxIdle } = this.options
    const known = this.slots.capacity
    const capacity = Number.isFinite(known) && known > 1 ? known - 1 : keepAliveMaxIdle
    // requests that hold a slot but no connection yet (woken from the queue) will take one
    // each; those already connecting will not
    const busy = this.open.size - this.idle.length - (this.open.has(returning) ? 1 : 0) + this.connecting
    const wanted = Math.max(0, this.slots.inFlight - busy)
    // beyond the limit in force, an idle connection waits for nothing but pins a worker, which a
    // connection of ours still in the accept queue (counted in busy) may be waiting for
    const room = Math.max(0, this.slots.current - busy)
    return Math.min(keepAliveMaxIdle, Math.max(capacity, wanted), room)
  }

  private takeIdle (): BackendConnection | undefined {
    // newest first: the oldest idle connections time out and free their workers
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (!connection.closed) return connection
    }
    return undefined
  }

  private forget (connection: BackendConnection): void {
    if (connection.unclean) this.dirtyClosed++
    this.acceptQueue.closed(connection)
    this.readingCheck.gone(connection)
    this.open.delete(connection)
    const index = this.idle.indexOf(connection)
    if (index !== -1) this.idle.splice(index, 1)
  }
}

/**
 * FCGI_MAX_CONNS as a cap, when the backend gave a sensible one. php-fpm does not report it;
 * php-cgi reports its PHP_FCGI_CHILDREN; a value of 1 from a backend that did not think about
 * it would throttle a multithreaded server, but then it should not have said so.
 */
function reportedMaxConns (values: Map<string, string> | undefined): number {
  const text = values?.get('FCGI_MAX_CONNS')
  if (text === undefined || !/^[0-9]{1,6}$/.test(text)) return Infinity
  const value = Number(text)
  return value >= 1 ? value : Infinity
}

/** A function, not a property test, because the flag changes across awaits. */
function isCancelled (req: BackendRequest): boolean {
  return req.cancellation?.cancelled === true
}

/** Internal: the request may be replayed on a fresh connection. */
class StaleConnectionError extends Error {
  constructor (readonly original: Error) {
    super(original.message)
  }
}

export type { Readable }
