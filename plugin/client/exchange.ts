// One FastCGI request on one connection: writes the request records with backpressure,
// parses the CGI header block as STDOUT arrives, then hands the rest of STDOUT to the body's
// feed (response-feed: a Readable that pauses the socket while its reader is behind).
//
// Small responses usually arrive whole, END_REQUEST included, in one socket read. The head
// is therefore delivered at the end of the read that completed it, or, when the request has
// not ended by then, up to 1 ms later (a page that a backend writes in 8 KiB records arrives
// over several reads, microseconds apart), or as soon as 128 KiB of body is waiting. When the
// request has ended by then, the body is handed over as one Buffer (`complete`), and no
// stream is made unless someone asks for `body`: the gateway answers with a Content-Length
// in one write, as lighttpd does when it has the whole response. A streamed body gets the
// STDOUT of one socket read as one chunk, not a chunk per record: each chunk costs a write
// to the client.
import assert from 'node:assert'
import { Readable } from 'node:stream'
import type { BackendConnection, RecordSink } from './connection'
import type { CancelTarget } from './cancellation'
import { RequestBodyPump, endOfStdin, writeStdin } from './request-body-pump'
import type { BodyPumpListener } from './request-body-pump'
import { ExchangeTimer } from './exchange-timer'
import { BackendResponse, ResponseFeed } from './response-feed'
import type { FastcgiResponse, FeedOwner, ResponseSpillOptions, SpoolWatcher } from './response-feed'
import type { TimerPurpose } from './exchange-timer'
import { CgiHeaderParser } from '../cgi/response-header-parser'
import type { CgiResponseHead } from '../cgi/response-header-parser'
import { MAX_CONTENT_LENGTH, ProtocolStatus, encodeRequestHead } from '../protocol'
import type { NameValuePair, Role } from '../protocol'
import { ClientAbortedError, ClientBodyTimeoutError, OverloadedError, PrematureCloseError, ReadTimeoutError, RequestRejectedError, SendTimeoutError, WriteTimeoutError } from '../errors'

export type { FastcgiResponse, ResponseSpillOptions, SpoolWatcher } from './response-feed'

/** A body that can be sent again (a retry on a fresh connection): a buffer or a spooled file. */
export interface ReplayableBody {
  readonly length: number
  open (): Readable
}

export type RequestBody = Buffer | Readable | ReplayableBody

export interface ExchangeOptions {
  readonly role: Role
  readonly params: Iterable<NameValuePair>
  readonly body: RequestBody | undefined
  readonly keepConn: boolean
  readonly readTimeout: number
  readonly writeTimeout: number
  /** ms the body's reader may take nothing while the backend waits for it; 0 = no limit */
  readonly sendTimeout: number
  /** ms the client may send nothing of a body streamed from it (a Readable body) while the backend waits for the rest; 0 = no limit */
  readonly bodyTimeout: number
  readonly headerLimit: number
  readonly onStderr: ((chunk: Buffer) => void) | undefined
  /** undefined: a slow reader holds the backend while it reads */
  readonly spill?: ResponseSpillOptions | undefined
  readonly spoolWatcher?: SpoolWatcher | undefined
}

const EMPTY_BODY = Buffer.alloc(0)

/** Body bytes gathered before the head is delivered; past this the body streams. */
const COMPLETE_RESPONSE_LIMIT = 128 * 1024

/**
 * How long a head waits for the rest of its response. Long enough for a backend writing a
 * page in records to finish it (then it goes out whole, with a Content-Length, in one write),
 * short enough not to be seen on a streamed response.
 */
const HEAD_HOLD_MS = 1

export function isReplayable (body: RequestBody | undefined): boolean {
  return body === undefined || Buffer.isBuffer(body) || !(body instanceof Readable)
}

type Phase = 'head' | 'body' | 'done'

/** Body bytes received but not handed on yet. */
class PendingBytes {
  private chunks: Buffer[] = []
  bytes = 0

  add (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.bytes += chunk.length
  }

  /** Each of them as received (no copy); empties the list. */
  takeEach (): Buffer[] {
    const { chunks } = this
    this.chunks = []
    this.bytes = 0
    return chunks
  }

  /** All of them as one buffer (no copy for a single chunk); empties the list. */
  take (): Buffer {
    const { chunks } = this
    const whole = chunks.length === 0 ? EMPTY_BODY : chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, this.bytes)
    this.chunks = []
    this.bytes = 0
    return whole
  }
}

export class FastcgiExchange implements RecordSink, CancelTarget, BodyPumpListener {
  /** Any record received: from then on a failure is the backend's, not a stale kept connection. */
  receivedAnything = false
  /** The header block was delivered to the caller. */
  responded = false
  private phase: Phase = 'head'
  /** this request's id on its connection (see BackendConnection.attach) */
  private requestId = 0
  private readonly parser: CgiHeaderParser
  /** the parsed head, held until it is delivered (see the top of this file) */
  private parsedHead: CgiResponseHead | undefined
  /** body bytes not yet handed on: before delivery, all of them; after, those of the current read */
  private readonly pending = new PendingBytes()
  /** the head promise is settled */
  private delivered = false
  /** the streamed body's way to its reader, once the head is delivered */
  private feed: ResponseFeed | undefined
  /** the socket is full and request data waits for 'drain' */
  private awaitingDrain = false
  private resolveHead!: (response: FastcgiResponse) => void
  private rejectHead!: (err: Error) => void
  readonly head: Promise<FastcgiResponse>
  private readonly timer = new ExchangeTimer((purpose) => this.onTimer(purpose))
  /** the request body on its way, while a stream is being sent */
  private pump: RequestBodyPump | undefined
  private onDone: (() => void) | undefined

  constructor (
    private readonly connection: BackendConnection,
    private readonly options: ExchangeOptions,
    /** Called once when the exchange is over; `reusable` says the connection may serve again. */
    private readonly onFinish: (exchange: FastcgiExchange, reusable: boolean) => void
  ) {
    this.parser = new CgiHeaderParser(options.headerLimit)
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve
      this.rejectHead = reject
    })
    // A rejection nobody awaits yet (the caller awaits head later) must not crash the process.
    this.head.catch(() => {})
  }

  /** A byte of a streamed body was taken: the request can no longer be sent elsewhere. */
  get bodyConsumed (): boolean {
    return this.pump?.consumed ?? false
  }

  start (): void {
    const { connection, options } = this
    this.requestId = connection.attach(this)
    this.timer.set('read', options.readTimeout)
    const body = options.body
    // a stream's length is announced in CONTENT_LENGTH by the caller; here it only matters that it may be non-empty
    const bodyLength = body === undefined ? 0 : body instanceof Readable ? -1 : body.length
    const socket = connection.socket
    socket.cork()
    socket.write(encodeRequestHead(this.requestId, options.role, options.keepConn, options.params, body === undefined || bodyLength === 0))
    if (body === undefined || bodyLength === 0) {
      socket.uncork()
      return
    }
    if (Buffer.isBuffer(body) && body.length <= MAX_CONTENT_LENGTH) {
      writeStdin(socket, this.requestId, body)
      const flushed = socket.write(endOfStdin(this.requestId))
      socket.uncork()
      if (!flushed) this.awaitDrainOnce()
      return
    }
    socket.uncork()
    const owned = !(body instanceof Readable)
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body instanceof Readable ? body : body.open()
    this.pump = new RequestBodyPump(source, socket, this.requestId, this, owned)
    this.pump.start()
    // the backend waits for the client's body: while it is on its way, the client's silence is what can stall
    if (!owned && this.pump.running) this.armWatch()
  }

  /** Calls `callback` once the exchange is over (at once if it is). */
  whenDone (callback: () => void): void {
    if (this.phase === 'done') callback()
    else this.onDone = callback
  }

  /** The client went away or the caller gave up: drop the backend connection at once. */
  abort (err: Error): void {
    if (this.phase === 'done') return
    this.fail(err)
  }

  /** The request's Cancellation fired: the client went away. */
  onCancel (): void {
    this.abort(new ClientAbortedError())
  }

  onBodyChunk (): void {
    // the read timeout is backend silence while nothing is owed to it: a body still arriving
    // from a slow client is not the backend's fault (lighttpd only starts reading once the
    // request body is complete)
    this.timer.refresh('read')
    this.timer.refresh('body')
  }

  onBodyEnd (): void {
    // the whole body is out: from now on the backend owes the answer
    if (this.phase !== 'done' && this.timer.purpose === 'body') this.armWatch()
  }

  onDrainWait (waiting: boolean): void {
    this.awaitingDrain = waiting
    // the hold delivers soon anyway, and a client that takes nothing is cut off whatever the backend does
    if (this.phase !== 'done' && this.timer.purpose !== 'hold' && this.timer.purpose !== 'send') this.armWatch()
  }

  onBodyError (err: Error): void {
    this.abort(err)
  }

  /** A request that fitted in one write, waiting for the socket to take it. */
  private awaitDrainOnce (): void {
    this.onDrainWait(true)
    this.connection.socket.once('drain', () => this.onDrainWait(false))
  }

  /** The deadline that matters now: the backend taking request data, the client sending the rest of a streamed body, else the backend's silence. */
  private armWatch (): void {
    const { options } = this
    if (this.awaitingDrain && options.writeTimeout > 0) this.timer.set('write', options.writeTimeout)
    // while the backend socket is full the client is held back by us (its stream is paused):
    // its silence then is the backend's doing, also when writeTimeout 0 sets no deadline on that
    else if (!this.awaitingDrain && this.streamingClientBody && options.bodyTimeout > 0) this.timer.set('body', options.bodyTimeout)
    else this.timer.set('read', options.readTimeout)
  }

  /** A body read from the client itself (not a buffer or a spooled file of ours) is still on its way. */
  private get streamingClientBody (): boolean {
    return this.options.body instanceof Readable && this.pump?.running === true
  }

  private onTimer (purpose: TimerPurpose): void {
    if (this.phase === 'done') {
      // the backend is done, its worker free; the reader may still hold the temp file
      if (purpose === 'send') this.feed?.onTimer('send')
      return
    }
    if (purpose === 'spill') {
      this.feed?.onTimer('spill')
      return
    }
    if (purpose === 'hold') {
      this.deliver()
      return
    }
    if (purpose === 'write') {
      this.fail(new WriteTimeoutError(this.connection.name, this.options.writeTimeout))
      return
    }
    // the client stopped sending the body the backend is waiting for: the client's doing (408),
    // and the backend is freed, not held for as long as the client keeps its connection
    if (purpose === 'body') {
      this.fail(new ClientBodyTimeoutError(this.options.bodyTimeout))
      return
    }
    // A reader that takes nothing for sendTimeout holds the backend's worker hostage (a client
    // that stops reading would keep it for good): it is cut off and the worker freed.
    if (purpose === 'send') {
      this.fail(new SendTimeoutError(this.options.sendTimeout, this.connection.name))
      return
    }
    // A reader that is slower than the backend is not the backend's fault.
    if (this.feed?.paused === true) {
      this.armWatch()
      return
    }
    this.fail(new ReadTimeoutError(this.connection.name, this.options.readTimeout))
  }

  onStdout (chunk: Buffer): void {
    this.receivedAnything = true
    this.timer.refresh('read')
    if (this.phase === 'body') {
      this.pending.add(chunk)
      return
    }
    if (this.phase !== 'head') return
    let parsed
    try {
      parsed = this.parser.push(chunk)
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
      return
    }
    if (parsed === undefined) return
    this.phase = 'body'
    this.responded = true
    this.parsedHead = parsed.head
    if (parsed.rest.length > 0) {
      this.pending.add(parsed.rest)
    }
  }

  /** The connection has handed on every record of one socket read. */
  onReadEnd (): void {
    if (this.delivered) {
      this.flushPending()
      return
    }
    if (this.parsedHead === undefined) return
    // a body that is already large streams at once: waiting for its end would mean holding
    // and then copying all of it into one buffer
    if (this.phase === 'done' || this.pending.bytes >= COMPLETE_RESPONSE_LIMIT) {
      this.deliver()
      return
    }
    if (this.timer.purpose !== 'hold') this.timer.set('hold', HEAD_HOLD_MS)
  }

  /** Marks the head promise settled (once): the held head, if any, is taken. */
  private settle (): CgiResponseHead | undefined {
    this.delivered = true
    // the hold is over (fired, or cut short): the backend's deadline runs again
    const purpose = this.timer.purpose
    if (this.phase !== 'done' && (purpose === 'hold' || purpose === undefined)) this.armWatch()
    const head = this.parsedHead
    this.parsedHead = undefined
    return head
  }

  private deliver (): void {
    if (this.delivered || this.parsedHead === undefined) return
    const head = this.settle()
    assert(head !== undefined, 'a head is delivered once parsed')
    if (this.phase === 'done') {
      this.resolveHead(new BackendResponse(head, this.pending.take(), undefined, this))
      return
    }
    this.feed = new ResponseFeed(this.feedOwner())
    this.resolveHead(new BackendResponse(head, undefined, this.feed.body, this))
    this.flushPending()
  }

  private feedOwner (): FeedOwner {
    const { connection, options } = this
    return {
      timer: this.timer,
      socket: connection.socket,
      backendName: connection.name,
      sendTimeout: options.sendTimeout,
      spill: options.spill,
      backendDone: () => this.phase === 'done',
      watch: () => this.armWatch(),
      readerGone: (err) => this.abort(err),
      spoolWatcher: options.spoolWatcher
    }
  }

  private flushPending (): void {
    // chunk by chunk: a large body is never copied together on its way through
    const feed = this.feed
    if (this.pending.bytes > 0 && feed !== undefined) for (const chunk of this.pending.takeEach()) feed.push(chunk)
  }

  onStderr (chunk: Buffer): void {
    this.receivedAnything = true
    this.timer.refresh('read')
    this.options.onStderr?.(chunk)
  }

  onEndRequest (_appStatus: number, protocolStatus: number): void {
    this.receivedAnything = true
    if (this.phase === 'head') {
      const name = this.connection.name
      let err: Error
      if (protocolStatus === ProtocolStatus.OVERLOADED) err = new OverloadedError(name)
      else if (protocolStatus === ProtocolStatus.CANT_MPX_CONN) err = new RequestRejectedError(`${name} cannot multiplex connections`)
      else if (protocolStatus === ProtocolStatus.UNKNOWN_ROLE) err = new RequestRejectedError(`${name} does not support role ${this.options.role}`)
      else err = new PrematureCloseError(`${name} ended the request before a complete CGI header block`)
      this.fail(err)
      return
    }
    if (this.phase !== 'body') return
    // before the head is delivered, the end is noted by phase 'done' (a complete response)
    if (this.delivered) this.flushPending()
    // a backend that answered before it read the whole body leaves the stream mid-request
    this.finish(this.options.keepConn && this.pump?.running !== true && !this.awaitingDrain)
    this.feed?.end()
  }

  onConnectionLost (err: Error): void {
    this.fail(err)
  }

  private finish (reusable: boolean): void {
    this.phase = 'done'
    // a backend may answer before it has read the whole body; the rest cannot go anywhere
    this.pump?.stop()
    if (!reusable) this.connection.destroy()
    this.timer.clear()
    this.feed?.releaseSocket()
    this.onFinish(this, reusable)
    const onDone = this.onDone
    this.onDone = undefined
    onDone?.()
  }

  /** Any failure drops the connection: its stream position is unknown. */
  private fail (err: Error): void {
    if (this.phase === 'done') return
    this.connection.detach()
    this.finish(false)
    if (!this.delivered) {
      this.settle()
      this.pending.take()
      this.rejectHead(err)
    } else this.feed?.destroy(err)
  }
}
