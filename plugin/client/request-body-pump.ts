// Sends a request body (FastCGI STDIN) from a stream to a backend socket, in the manner of
// undici's writeStream: listeners first, then resume() (a source paused by an earlier attempt
// on a stale connection must flow again, or the backend waits for a body that never comes);
// the socket's backpressure pauses the source until 'drain'; a source that closes without
// 'end' is an aborted upload, never a complete body.
import type net from 'node:net'
import type { Readable } from 'node:stream'
import { HEADER_LENGTH, MAX_CONTENT_LENGTH, RecordType, encodeRecordHeader, writeRecordHeader } from '../protocol'
import { ClientAbortedError } from '../errors'

export interface BodyPumpListener {
  /** A chunk of the body went to the backend (the client is making progress). */
  onBodyChunk (): void
  /** The socket is full (true) or has drained (false). */
  onDrainWait (waiting: boolean): void
  /** The source failed or closed before its end: the request cannot complete. */
  onBodyError (err: Error): void
  /** The whole body went to the backend (its end record is written). */
  onBodyEnd (): void
}

/** The empty STDIN record that ends a request's body. */
export function endOfStdin (requestId: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH)
  writeRecordHeader(buf, 0, RecordType.STDIN, requestId, 0)
  return buf
}

/** Writes `data` as STDIN records (corked: the headers and pieces leave in one write); false when the socket is full. */
export function writeStdin (socket: net.Socket, requestId: number, data: Buffer): boolean {
  let ok = true
  socket.cork()
  for (let start = 0; start < data.length; start += MAX_CONTENT_LENGTH) {
    const part = data.subarray(start, Math.min(start + MAX_CONTENT_LENGTH, data.length))
    socket.write(encodeRecordHeader(RecordType.STDIN, requestId, part.length))
    ok = socket.write(part)
  }
  socket.uncork()
  return ok
}

/**
 * One body on its way to the backend. stop() detaches from the source and leaves it paused, or,
 * when the pump owns it (opened for this attempt: a spooled body's file, a buffer's stream),
 * destroys it: a backend that answers before it has read the whole body would otherwise leave
 * the temp file's descriptor open for the life of the process.
 */
export class RequestBodyPump {
  /** A byte of the source was taken: it can no longer be sent anywhere else. */
  consumed = false
  private stopped = false
  private awaitingDrain = false

  constructor (
    private readonly source: Readable,
    private readonly socket: net.Socket,
    private readonly requestId: number,
    private readonly listener: BodyPumpListener,
    private readonly ownsSource = false
  ) {}

  start (): void {
    const { source } = this
    if (source.destroyed && !source.readableEnded) {
      this.listener.onBodyError(new ClientAbortedError())
      return
    }
    if (source.readableEnded) {
      // an empty body that ended before this attempt: nothing was taken, its end is all there is
      this.onEnd()
      return
    }
    source.on('data', this.onData)
    source.on('end', this.onEnd)
    source.on('error', this.onError)
    source.on('close', this.onClose)
    this.socket.on('drain', this.onDrain)
    source.resume()
  }

  /** Detaches and pauses the source (the request is over, or it goes to another connection). */
  stop (): void {
    if (this.stopped) return
    this.detach()
    if (this.ownsSource) this.source.destroy()
    else this.source.pause()
  }

  get running (): boolean {
    return !this.stopped
  }

  private detach (): void {
    this.stopped = true
    const { source } = this
    source.removeListener('data', this.onData)
    source.removeListener('end', this.onEnd)
    source.removeListener('error', this.onError)
    source.removeListener('close', this.onClose)
    this.socket.removeListener('drain', this.onDrain)
    if (this.awaitingDrain) {
      this.awaitingDrain = false
      this.listener.onDrainWait(false)
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    this.consumed = true
    this.listener.onBodyChunk()
    if (!writeStdin(this.socket, this.requestId, chunk) && !this.awaitingDrain) {
      this.awaitingDrain = true
      this.source.pause()
      this.listener.onDrainWait(true)
    }
  }

  private readonly onDrain = (): void => {
    if (!this.awaitingDrain) return
    this.awaitingDrain = false
    this.listener.onDrainWait(false)
    this.source.resume()
  }

  private readonly onEnd = (): void => {
    this.detach()
    this.socket.write(endOfStdin(this.requestId))
    this.listener.onBodyEnd()
  }

  private readonly onError = (err: Error): void => {
    this.detach()
    this.listener.onBodyError(err)
  }

  private readonly onClose = (): void => {
    // 'close' after 'end' is the normal order and onEnd has detached by then
    this.detach()
    this.listener.onBodyError(new ClientAbortedError())
  }
}
