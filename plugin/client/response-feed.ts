// A streamed response body on its way from the backend socket to its reader (the exchange
// parses the head; this carries the rest). undici's discipline: when push() returns false the
// backend socket is paused, and _read resumes it. A reader that stays behind for
// SPILL_AFTER_MS gets the rest of the body from a temp file (response-spill): the backend
// socket is resumed and the backend can finish and free its worker, as lighttpd and nginx
// let it. A reader that takes nothing for sendTimeout is cut off, whether the backend still
// waits for it or only the temp file does.
import assert from 'node:assert'
import type net from 'node:net'
import { Readable } from 'node:stream'
import type { ExchangeTimer } from './exchange-timer'
import { ResponseSpill } from './response-spill'
import type { SpillListener } from './response-spill'
import type { CgiResponseHead } from '../cgi/response-header-parser'
import { ClientAbortedError, ResponseSpillError, SendTimeoutError } from '../errors'

/** Told once, when a body is over, of the bytes that went to its temp file (only if any did): metrics. */
export interface SpoolWatcher {
  spooled (bytes: number): void
}

/** Where and how much of a response body its reader is behind on may go to a temp file. */
export interface ResponseSpillOptions {
  readonly directory: string
  /** bytes one response may put in its file; past them the backend waits for the reader */
  readonly limit: number
  /** the file could not be opened: the backend waits for the reader instead */
  readonly onUnavailable?: (err: Error) => void
}

export interface FastcgiResponse extends CgiResponseHead {
  /** the whole body, when the backend had ended the request by the time the head was read */
  readonly complete: Buffer | undefined
  /** the body as a stream; for a complete response it is made on first use */
  readonly body: Readable
  /**
   * Tells `callback` once the backend's part is over (ended, failed or cut off): before the
   * body's end when the rest of it waits in a temp file for a slow reader.
   */
  whenBackendDone (callback: () => void): void
}

/** A response head with its body: a whole Buffer (the stream made only if asked for), or a stream. */
export class BackendResponse implements FastcgiResponse {
  readonly status: number
  readonly headers: Array<[string, string]>
  readonly location: string | undefined
  readonly localRedirect: boolean

  constructor (
    head: CgiResponseHead,
    readonly complete: Buffer | undefined,
    private stream: Readable | undefined,
    private readonly backend: { whenDone (callback: () => void): void }
  ) {
    this.status = head.status
    this.headers = head.headers
    this.location = head.location
    this.localRedirect = head.localRedirect
  }

  get body (): Readable {
    if (this.stream === undefined) {
      const complete = this.complete
      assert(complete !== undefined, 'a response without a stream is complete')
      const stream = new Readable({ read () {} })
      if (complete.length > 0) stream.push(complete)
      stream.push(null)
      this.stream = stream
    }
    return this.stream
  }

  whenBackendDone (callback: () => void): void {
    this.backend.whenDone(callback)
  }
}

// A socket read is up to 64 KiB: with Readable's default of 16 KiB, every push of a large
// body would pause the backend socket and resume it again (two epoll_ctl calls per read)
// even with a fast client. Memory held for a slow client stays bounded by this.
const RESPONSE_HIGH_WATER_MARK = 256 * 1024

/**
 * How long a reader may stay behind with the backend paused before the body spills to a temp
 * file: far longer than a fast client's pauses (so their bodies never touch the disk), far
 * shorter than what a slow download would otherwise hold a worker for.
 */
const SPILL_AFTER_MS = 250

class ResponseBody extends Readable {
  constructor (private readonly onDemand: () => void, private readonly onGone: (err: Error | null) => void) {
    super({ highWaterMark: RESPONSE_HIGH_WATER_MARK })
  }

  override _read (): void {
    this.onDemand()
  }

  // the reader gave up (client gone): the backend request must end too
  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    this.onGone(err)
    callback(err)
  }
}

/** What a feed needs of its exchange. */
export interface FeedOwner {
  /** the exchange's one timer: the feed moves it to 'spill' and 'send', and back with watch() */
  readonly timer: ExchangeTimer
  readonly socket: net.Socket
  readonly backendName: string
  readonly sendTimeout: number
  readonly spill: ResponseSpillOptions | undefined
  /** the backend has ended (or failed) the request */
  backendDone (): boolean
  /** the backend's own deadline again (read, or write while request data waits) */
  watch (): void
  /** the reader went away while the backend was still at it */
  readerGone (err: Error): void
  readonly spoolWatcher: SpoolWatcher | undefined
}

export class ResponseFeed implements SpillListener {
  readonly body: ResponseBody
  /** the backend socket is paused: the reader, or the temp file, is behind */
  paused = false
  /** the body's temp file, once its reader stayed behind */
  private spill: ResponseSpill | undefined
  /** STDOUT goes to the spill, not to the body, until the reader has caught up */
  private spilling = false
  /** the temp file cannot be had: the backend waits for the reader */
  private spillUnavailable = false

  constructor (private readonly owner: FeedOwner) {
    // _destroy runs after every body, ended ones included: build the error only when it is needed
    this.body = new ResponseBody(() => this.onDemand(), (err) => {
      const spill = this.spill
      if (spill !== undefined) {
        if (spill.written > 0) owner.spoolWatcher?.spooled(spill.written)
        spill.close()
      }
      if (!owner.backendDone()) owner.readerGone(err ?? new ClientAbortedError())
      else owner.timer.clear()
    })
  }

  /** Body bytes from the backend, in order. */
  push (chunk: Buffer): void {
    if (this.spilling) {
      this.spillChunk(chunk)
      return
    }
    if (!this.body.push(chunk) && !this.paused) {
      this.pauseBackend()
      // the reader is behind: a while, then the rest goes to the temp file and the backend is freed
      const { owner } = this
      if (this.canSpill()) owner.timer.set('spill', SPILL_AFTER_MS)
      else if (owner.sendTimeout > 0) owner.timer.set('send', owner.sendTimeout)
    }
  }

  /** The backend is done with its socket (the connection may serve again): never leave it paused. */
  releaseSocket (): void {
    if (this.paused) this.resumeBackend()
  }

  /** The backend ended the request. */
  end (): void {
    if (!this.spilling) {
      this.body.push(null)
      return
    }
    // the rest is in the temp file (a read of it under way, or the reader's next demand, goes on
    // with it); a reader that takes nothing of it for sendTimeout is cut off
    const { owner } = this
    if (this.spill?.drained === true) this.readSpill()
    else if (owner.sendTimeout > 0) owner.timer.set('send', owner.sendTimeout)
  }

  /** The exchange's timer fired for the feed: 'spill' (the reader stayed behind), or 'send' once the backend is done. */
  onTimer (purpose: 'spill' | 'send'): void {
    if (purpose === 'spill') this.startSpill()
    else if (this.spilling) this.body.destroy(new SendTimeoutError(this.owner.sendTimeout, this.owner.backendName))
  }

  destroy (err: Error): void {
    this.body.destroy(err)
  }

  onPiece (piece: Buffer): void {
    if (this.body.destroyed) return
    if (this.body.push(piece)) this.readSpill()
    // behind again: _read asks for more; after the backend's end, only the reader's own deadline runs
    else if (this.owner.backendDone() && this.owner.sendTimeout > 0) this.owner.timer.set('send', this.owner.sendTimeout)
  }

  onWritable (): void {
    const limit = this.owner.spill?.limit ?? 0
    if (this.spilling && this.paused && !this.owner.backendDone() && (this.spill?.written ?? 0) < limit) this.resumeBackend()
  }

  onSpillError (err: Error): void {
    this.spillUnavailable = true
    this.body.destroy(new ResponseSpillError(err.message, { cause: err }))
  }

  private pauseBackend (): void {
    this.paused = true
    this.owner.socket.pause()
  }

  private resumeBackend (): void {
    this.paused = false
    this.owner.socket.resume()
  }

  private onDemand (): void {
    if (this.spilling) {
      this.readSpill()
      return
    }
    if (this.paused) {
      const { timer } = this.owner
      if (timer.purpose === 'send' || timer.purpose === 'spill') this.owner.watch()
      else timer.refresh('read')
      this.resumeBackend()
    }
  }

  private canSpill (): boolean {
    const options = this.owner.spill
    return options !== undefined && !this.spillUnavailable && (this.spill?.written ?? 0) < options.limit
  }

  /** The reader stayed behind: from now on STDOUT goes to the temp file, and the backend may go on. */
  private startSpill (): void {
    const { owner } = this
    const options = owner.spill
    assert(options !== undefined, 'a spill is timed only when spilling is on')
    if (this.spill === undefined) {
      try {
        this.spill = ResponseSpill.open(options.directory, this)
      } catch (err) {
        this.spillUnavailable = true
        options.onUnavailable?.(err instanceof Error ? err : new Error(String(err)))
        if (owner.sendTimeout > 0) owner.timer.set('send', owner.sendTimeout)
        else owner.watch()
        return
      }
    }
    this.spilling = true
    owner.watch()
    this.resumeBackend()
  }

  private spillChunk (chunk: Buffer): void {
    const spill = this.spill
    const options = this.owner.spill
    assert(spill !== undefined && options !== undefined, 'spilling has a file')
    const writable = spill.write(chunk)
    if (this.paused) return
    if (spill.written >= options.limit) {
      // the file is as large as it may be: the backend waits for the reader again, until the reader empties the file
      this.pauseBackend()
      if (this.owner.sendTimeout > 0) this.owner.timer.set('send', this.owner.sendTimeout)
    } else if (!writable) {
      this.pauseBackend()
    }
  }

  /** Feeds the reader from the temp file; once it has caught up, the body goes to it directly again. */
  private readSpill (): void {
    const spill = this.spill
    assert(spill !== undefined, 'spilling has a file')
    if (spill.busy) return
    const { owner } = this
    const done = owner.backendDone()
    if (owner.timer.purpose === 'send') {
      // the reader took something
      if (done) owner.timer.clear()
      else owner.watch()
    }
    if (!spill.drained) {
      spill.read()
      return
    }
    this.spilling = false
    if (done) {
      spill.close()
      owner.timer.clear()
      this.body.push(null)
      return
    }
    if (this.paused) this.resumeBackend()
  }
}
