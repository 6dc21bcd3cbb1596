// A response body's overflow: the bytes a slow reader has not taken yet, kept in a temp file
// so that the backend can finish and free its worker (what lighttpd and nginx do with
// responses: a PHP worker must not wait for a client on a slow link, or for one that reads
// slowly on purpose to hold every worker).
//
// One file per response, written and read at explicit positions: appended as the backend
// sends, read from the front as the reader asks. It is unlinked as soon as it is opened, so
// a crash leaves nothing behind and closing the descriptor frees the disk. Writes go one at a
// time, in order; a read only covers bytes whose write has completed.
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

/** Bytes read from the file at a time (a socket read's size). */
const READ_SIZE = 64 * 1024

/** Bytes waiting for their write: past this the source should pause until the disk catches up. */
const WRITE_QUEUE_LIMIT = 1024 * 1024

export interface SpillListener {
  /** The write queue is below its limit again. */
  onWritable (): void
  /** The piece read() was asked for. */
  onPiece (piece: Buffer): void
  /** A write or a read failed: the bytes are lost, the response cannot be completed. */
  onSpillError (err: Error): void
}

export class ResponseSpill {
  /** Bytes given to write(), on disk or queued. */
  written = 0
  private onDisk = 0
  private readAt = 0
  private queue: Buffer[] = []
  private queued = 0
  private writing = false
  private reading = false
  /** read() was called while the bytes it needs were still being written */
  private readWanted = false
  private closed = false

  private constructor (private readonly fd: number, private readonly listener: SpillListener) {}

  /** A new, already unlinked 0600 file in `directory`; throws what open() throws. */
  static open (directory: string, listener: SpillListener): ResponseSpill {
    const file = path.join(directory, `fastify-fastcgi-response-${randomBytes(8).toString('hex')}`)
    const fd = fs.openSync(file, 'wx+', 0o600)
    try {
      fs.unlinkSync(file)
    } catch (err) {
      fs.closeSync(fd)
      throw err
    }
    return new ResponseSpill(fd, listener)
  }

  /** Nothing is left to read, and nothing is on its way to the file. */
  get drained (): boolean {
    return this.readAt === this.written
  }

  /** A read is in flight: its piece comes through onPiece. */
  get busy (): boolean {
    return this.reading || this.readWanted
  }

  /** Whether the write queue can take more without the source pausing. */
  get writable (): boolean {
    return this.queued < WRITE_QUEUE_LIMIT
  }

  /** Appends `chunk` (kept, not copied, until written); false when the source should pause. */
  write (chunk: Buffer): boolean {
    if (this.closed) return false
    this.queue.push(chunk)
    this.queued += chunk.length
    this.written += chunk.length
    if (!this.writing) this.writeNext()
    return this.writable
  }

  /** Reads the next piece from the front (onPiece); at most one read at a time. */
  read (): void {
    if (this.closed || this.busy || this.drained) return
    if (this.readAt === this.onDisk) {
      // its bytes are still in the queue: read once their write completes
      this.readWanted = true
      return
    }
    this.reading = true
    const length = Math.min(READ_SIZE, this.onDisk - this.readAt)
    const piece = Buffer.allocUnsafe(length)
    fs.read(this.fd, piece, 0, length, this.readAt, (err, bytesRead) => {
      this.reading = false
      if (this.closed) {
        if (!this.writing) this.closeFd()
        return
      }
      if (err !== null || bytesRead !== length) {
        this.fail(err ?? new Error(`short read from a response's temp file (${bytesRead} of ${length} bytes)`))
        return
      }
      this.readAt += length
      this.listener.onPiece(piece)
    })
  }

  /** Closes the file (its disk space goes with it); pending writes and reads are dropped. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.queue = []
    this.queued = 0
    // a write or read in flight still uses the descriptor: close once it is back
    if (!this.writing && !this.reading) this.closeFd()
  }

  private writeNext (): void {
    const chunk = this.queue[0]
    if (chunk === undefined) return
    this.writing = true
    fs.write(this.fd, chunk, 0, chunk.length, this.onDisk, (err, bytesWritten) => {
      this.writing = false
      if (this.closed) {
        if (!this.reading) this.closeFd()
        return
      }
      if (err !== null || bytesWritten === 0) {
        this.fail(err ?? new Error('a response\'s temp file took no bytes'))
        return
      }
      this.onDisk += bytesWritten
      if (bytesWritten < chunk.length) {
        // a short write (disk full, a signal): the rest goes next
        this.queue[0] = chunk.subarray(bytesWritten)
      } else {
        this.queue.shift()
      }
      const wasWritable = this.writable
      this.queued -= bytesWritten
      if (this.queue.length > 0) this.writeNext()
      if (this.readWanted) {
        this.readWanted = false
        this.read()
      }
      if (!wasWritable && this.writable) this.listener.onWritable()
    })
  }

  private fail (err: Error): void {
    this.close()
    this.listener.onSpillError(err)
  }

  private closeFd (): void {
    fs.close(this.fd, () => {})
  }
}
