// One socket to a backend and the decoder in front of it. It serves one request at a time
// (we never multiplex: almost no backend supports it), and hands records to whichever
// exchange is attached.
//
// A kept connection must never let anything cross from one request to the next. Each request
// on it gets its own request id (1, 2, ... 65535, then 1 again), so a record the backend sends
// late (STDOUT after END_REQUEST, a second END_REQUEST, STDERR) is recognised as not the
// current request's. The connection goes back for reuse only when it is provably clean: the
// read that carried END_REQUEST ended exactly there (no further record, not one byte of a
// partial one). Any byte while idle, any byte after END_REQUEST, and any record for another
// id make it unclean: it is closed and never reused, and the client counts it.
import type net from 'node:net'
import { NULL_REQUEST_ID, RecordDecoder, RecordType, parseEndRequestBody } from '../protocol'
import { PrematureCloseError, ProtocolError, StaleRecordError } from '../errors'

/** The highest request id; FastCGI ids are 16 bits and 0 is for management records. */
const MAX_REQUEST_ID = 0xffff

export interface RecordSink {
  onStdout (chunk: Buffer): void
  onStderr (chunk: Buffer): void
  onEndRequest (appStatus: number, protocolStatus: number): void
  /** Every record of one socket read has been handed on (END_REQUEST may have detached the sink). */
  onReadEnd (): void
  /** The socket failed or closed while this sink was attached. */
  onConnectionLost (err: Error): void
}

export class BackendConnection {
  readonly decoder: RecordDecoder
  closed = false
  /** Bytes came that belonged to no request in progress: closed for that reason. */
  unclean = false
  /** Closed because it stayed idle for its whole idle time. */
  idleExpired = false
  /** The id of the request in progress (or of the last one). */
  requestId = 0
  /** The backend has answered on it: a worker took it (and a prefork worker keeps it until close). */
  answered = false
  /** performance.now() when its last request was put on it */
  attachedAt = 0
  /** performance.now() when it was opened */
  readonly openedAt = performance.now()
  private sink: RecordSink | undefined
  /** END_REQUEST came in the read being decoded: nothing may follow it in that read. */
  private endedInRead = false
  /** Inside the socket's 'data' handler. */
  private reading = false
  /** Told at the end of the current read when the connection is clean (see release). */
  private onClean: (() => void) | undefined
  /** Told once the backend answers the FCGI_GET_VALUES of askWhileIdle(). */
  private onIdleAnswer: (() => void) | undefined
  /** That answer's record has come (the read that carried it must end with it). */
  private idleAnswered = false
  private idleTimer: NodeJS.Timeout | undefined
  private idleMs = 0
  /** Date.now() when the connection last went idle; -1 while a request is on it */
  private idleSince = -1

  constructor (readonly socket: net.Socket, readonly name: string, private readonly onGone: (connection: BackendConnection) => void) {
    // a socket's 'data' chunks are the reader's own (a fresh buffer per read): the decoder may
    // move STDOUT bytes together inside them instead of copying
    this.decoder = new RecordDecoder((type, requestId, content) => this.onRecord(type, requestId, content), true)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('end', () => this.fail(new PrematureCloseError(`${name} closed the connection`)))
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new PrematureCloseError(`${name}: ${err.code ?? err.message}`, { cause: err })))
    socket.on('close', () => this.fail(new PrematureCloseError(`${name} closed the connection`)))
  }

  get attached (): boolean {
    return this.sink !== undefined
  }

  /** Puts a request on the connection; returns the request id it must use. */
  attach (sink: RecordSink): number {
    this.idleSince = -1
    this.attachedAt = performance.now()
    this.sink = sink
    this.requestId = this.requestId >= MAX_REQUEST_ID ? 1 : this.requestId + 1
    return this.requestId
  }

  detach (): void {
    this.sink = undefined
  }

  /**
   * The request on it is over and the connection may serve again: `onClean` is told once the
   * read that ended the request has ended with nothing after END_REQUEST; otherwise the
   * connection is closed as unclean and `onClean` is never told.
   */
  release (onClean: () => void): void {
    if (this.closed) return
    if (this.reading) this.onClean = onClean
    else if (this.decoder.idle) onClean()
    else this.failUnclean(new StaleRecordError(`${this.name} left part of a record after the end of a request`))
  }

  /**
   * Closes the socket after `ms` of idleness (kept connections pin a prefork worker each).
   * A kept connection goes idle once per request: rather than a timer each time, one timer
   * runs and, when it fires, looks at how long the connection has really been idle.
   */
  startIdleTimer (ms: number): void {
    this.idleSince = Date.now()
    this.idleMs = ms
    if (this.idleTimer === undefined) this.armIdleTimer(ms)
  }

  /**
   * Idle, sends `question` (an FCGI_GET_VALUES) and tells `onAnswer` when its answer comes:
   * a worker is reading this connection again. The answer is the one thing the backend may
   * send while idle; any other byte, or a byte after it, closes the connection as unclean.
   */
  askWhileIdle (question: Buffer, onAnswer: () => void): void {
    if (this.closed || this.sink !== undefined) return
    this.onIdleAnswer = onAnswer
    this.idleAnswered = false
    this.socket.write(question)
  }

  /** ms this connection has been idle (0 while a request is on it). */
  idleFor (now: number): number {
    return this.idleSince < 0 ? 0 : now - this.idleSince
  }

  destroy (): void {
    this.fail(undefined)
  }

  private onData (chunk: Buffer): void {
    const sink = this.sink
    if (sink === undefined) {
      if (this.onIdleAnswer !== undefined) this.readIdleAnswer(chunk)
      // nothing else is owed to us while idle: whatever this is, it is not for the next request
      else this.failUnclean(new StaleRecordError(`${this.name} sent ${chunk.length} bytes with no request in progress`))
      return
    }
    this.answered = true
    this.reading = true
    this.endedInRead = false
    try {
      this.decoder.push(chunk)
    } catch (err) {
      if (err instanceof StaleRecordError) this.failUnclean(err)
      else this.fail(err instanceof Error ? err : new ProtocolError(String(err)))
    }
    this.reading = false
    const onClean = this.onClean
    this.onClean = undefined
    if (this.endedInRead && !this.closed && !this.decoder.idle) {
      this.failUnclean(new StaleRecordError(`${this.name} sent part of a record after the end of a request`))
    }
    sink.onReadEnd()
    if (onClean !== undefined && !this.closed) onClean()
  }

  private readIdleAnswer (chunk: Buffer): void {
    try {
      this.decoder.push(chunk)
    } catch (err) {
      this.failUnclean(err instanceof Error ? err : new StaleRecordError(String(err)))
      return
    }
    const onAnswer = this.onIdleAnswer
    // the answer may come in more than one read
    if (!this.idleAnswered || onAnswer === undefined) return
    if (!this.decoder.idle) {
      this.failUnclean(new StaleRecordError(`${this.name} sent more than an FCGI_GET_VALUES answer while idle`))
      return
    }
    this.onIdleAnswer = undefined
    this.idleAnswered = false
    onAnswer()
  }

  private armIdleTimer (ms: number): void {
    this.idleTimer = setTimeout(() => this.onIdleTimer(), ms)
    this.idleTimer.unref()
  }

  private onIdleTimer (): void {
    this.idleTimer = undefined
    // busy (attach cleared idleSince): the next startIdleTimer arms a new one
    if (this.idleSince < 0) return
    const left = this.idleSince + this.idleMs - Date.now()
    if (left > 0) this.armIdleTimer(left)
    // timers run before pending reads: an answer already in the socket is read first
    else if (this.onIdleAnswer !== undefined) setImmediate(() => this.expireIdle())
    else this.expireIdle()
  }

  private expireIdle (): void {
    if (this.closed || this.idleSince < 0) return
    this.idleExpired = true
    this.destroy()
  }

  private stopIdleTimer (): void {
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer)
      this.idleTimer = undefined
    }
  }

  private onRecord (type: number, requestId: number, content: Buffer): void {
    const sink = this.sink
    if (sink === undefined || this.endedInRead) {
      // off the path of a request's records: the one answer askWhileIdle waits for
      if (sink === undefined && this.onIdleAnswer !== undefined && !this.idleAnswered && requestId === NULL_REQUEST_ID &&
        (type === RecordType.GET_VALUES_RESULT || type === RecordType.UNKNOWN_TYPE)) {
        this.idleAnswered = true
        return
      }
      throw new StaleRecordError(`${this.name} sent a record (type ${type}) after the end of request ${this.requestId}`)
    }
    // management records (id 0) are only asked for on a probe connection of their own or while
    // idle (askWhileIdle): during a request they are not the request's
    if (type === RecordType.GET_VALUES_RESULT || type === RecordType.UNKNOWN_TYPE) return
    if (requestId !== this.requestId) {
      throw new StaleRecordError(`${this.name} sent a record (type ${type}) for request id ${requestId} during request ${this.requestId}`)
    }
    switch (type) {
      case RecordType.STDOUT:
        if (content.length > 0) sink.onStdout(content)
        return
      case RecordType.STDERR:
        if (content.length > 0) sink.onStderr(content)
        return
      case RecordType.END_REQUEST: {
        const { appStatus, protocolStatus } = parseEndRequestBody(content)
        this.sink = undefined
        this.endedInRead = true
        sink.onEndRequest(appStatus, protocolStatus)
        return
      }
      default:
        // unknown record types from the application are skipped, as lighttpd does
    }
  }

  private failUnclean (err: Error): void {
    if (this.closed) return
    this.unclean = true
    this.fail(err)
  }

  private fail (err: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.onClean = undefined
    this.onIdleAnswer = undefined
    this.stopIdleTimer()
    this.socket.destroy()
    const sink = this.sink
    this.sink = undefined
    if (sink !== undefined) sink.onConnectionLost(err ?? new PrematureCloseError(`${this.name}: connection closed`))
    this.onGone(this)
  }
}
