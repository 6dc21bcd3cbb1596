// One socket to a backend and the decoder in front of it. It serves one request at a time
// (we never multiplex: almost no backend supports it), and hands records to whichever
// exchange is attached. A record that arrives while none is attached means the backend and
// we disagree about the stream, so the socket is dropped rather than reused.
import type net from 'node:net'
import { RecordDecoder, RecordType, parseEndRequestBody } from '../protocol'
import { PrematureCloseError, ProtocolError } from '../errors'

export const REQUEST_ID = 1

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
  requestsServed = 0
  closed = false
  private sink: RecordSink | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private idleMs = 0
  /** Date.now() when the connection last went idle; -1 while a request is on it */
  private idleSince = -1

  constructor (readonly socket: net.Socket, readonly name: string, private readonly onGone: (connection: BackendConnection) => void) {
    // a socket's 'data' chunks are the reader's own (a fresh buffer per read): the decoder may
    // move STDOUT bytes together inside them instead of copying
    this.decoder = new RecordDecoder((type, requestId, content) => this.onRecord(type, requestId, content), true)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      const sink = this.sink
      try {
        this.decoder.push(chunk)
      } catch (err) {
        this.fail(err instanceof Error ? err : new ProtocolError(String(err)))
      }
      sink?.onReadEnd()
    })
    socket.on('end', () => this.fail(new PrematureCloseError(`${name} closed the connection`)))
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new PrematureCloseError(`${name}: ${err.code ?? err.message}`, { cause: err })))
    socket.on('close', () => this.fail(new PrematureCloseError(`${name} closed the connection`)))
  }

  get attached (): boolean {
    return this.sink !== undefined
  }

  attach (sink: RecordSink): void {
    this.idleSince = -1
    this.sink = sink
  }

  detach (): void {
    this.sink = undefined
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

  destroy (): void {
    this.fail(undefined)
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
    else this.destroy()
  }

  private stopIdleTimer (): void {
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer)
      this.idleTimer = undefined
    }
  }

  private onRecord (type: number, requestId: number, content: Buffer): void {
    const sink = this.sink
    if (type === RecordType.GET_VALUES_RESULT || type === RecordType.UNKNOWN_TYPE) return
    if (sink === undefined) throw new ProtocolError(`${this.name} sent a record (type ${type}) with no request in progress`)
    if (requestId !== REQUEST_ID) throw new ProtocolError(`${this.name} sent a record for request id ${requestId}, expected ${REQUEST_ID}`)
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
        this.requestsServed++
        sink.onEndRequest(appStatus, protocolStatus)
        return
      }
      default:
        // unknown record types from the application are skipped, as lighttpd does
    }
  }

  private fail (err: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.stopIdleTimer()
    this.socket.destroy()
    const sink = this.sink
    this.sink = undefined
    if (sink !== undefined) sink.onConnectionLost(err ?? new PrematureCloseError(`${this.name}: connection closed`))
    this.onGone(this)
  }
}
