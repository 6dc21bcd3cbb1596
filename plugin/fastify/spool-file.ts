// A request body's temp file (requestBuffering beyond spoolMemoryLimit): 0600 in the spool
// directory, written with backpressure, removed by discard() once its descriptor is closed.
//
// Its stream has an 'error' listener for its whole life. A client that leaves mid-upload makes
// the gateway destroy the file while a write may still be in flight, and that write then fails
// with ERR_STREAM_DESTROYED: without a listener that error is uncaught and ends the process,
// so any client could stop the server by abandoning an upload.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'

export class SpoolFile {
  readonly path: string
  private readonly out: fs.WriteStream
  /** the first error the file met; every later write or finish fails with it */
  private failure: Error | undefined

  constructor (directory: string) {
    this.path = path.join(directory, `fastify-fastcgi-${crypto.randomUUID()}.body`)
    this.out = fs.createWriteStream(this.path, { mode: 0o600 })
    this.out.on('error', (err) => { this.failure ??= err })
  }

  /** Settles at once while the file keeps up; otherwise once it has drained. */
  write (chunk: Buffer): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.out.write(chunk)) return undefined
    return new Promise((resolve, reject) => {
      const onDrain = (): void => { this.out.removeListener('error', onError); resolve() }
      const onError = (err: Error): void => { this.out.removeListener('drain', onDrain); reject(err) }
      this.out.once('drain', onDrain)
      this.out.once('error', onError)
    })
  }

  /** Every byte is on disk and the file is closed. */
  finish (): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure)
      this.out.end((err?: Error | null) => err != null ? reject(err) : resolve())
    })
  }

  /** Stops writing and removes the file once closed (a file still opening would appear after an earlier rm). */
  discard (): void {
    const remove = (): void => fs.rm(this.path, { force: true }, () => {})
    if (this.out.closed) remove()
    else this.out.once('close', remove)
    this.out.destroy()
  }
}
