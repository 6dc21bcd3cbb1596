// A backend's Content-Length frames the response the client reads, so it must be true: body
// bytes beyond it would be read by a keep-alive client as the start of another response
// (response splitting), and a body that stops short would swallow the next one. The body is
// cut at the announced length (as lighttpd does), one that ends short fails the response
// (the client connection is aborted, never left waiting), and a Content-Length that is not a
// number, or that contradicts another, is a 502 (lighttpd 1.4.83). A body the backend sent
// chunked is de-chunked (its Content-Length, if any, is dropped: RFC 9112 6.3).
import { Transform, pipeline } from 'node:stream'
import type { Readable, TransformCallback } from 'node:stream'
import { ChunkedBodyDecoder } from '../cgi/chunked-body'
import { BadResponseHeaderError, PrematureCloseError } from '../errors'

const DIGITS = /^[0-9]+$/

/**
 * The announced length, with the header made a single value; undefined when there is none.
 * Throws BadResponseHeaderError for an invalid or contradictory value.
 */
export function takeContentLength (headers: Record<string, string | string[]>): number | undefined {
  const raw = headers['content-length']
  if (raw === undefined) return undefined
  let length: number | undefined
  for (const item of Array.isArray(raw) ? raw : [raw]) {
    // `5, 5` is one length said twice (RFC 9110 8.6); anything else is no length at all
    for (const part of item.split(',')) {
      const text = part.trim()
      const value = DIGITS.test(text) ? Number(text) : NaN
      if (!Number.isSafeInteger(value)) throw new BadResponseHeaderError(`invalid Content-Length ${JSON.stringify(item.slice(0, 40))}`)
      if (length !== undefined && value !== length) throw new BadResponseHeaderError(`contradictory Content-Length values ${JSON.stringify(String(raw).slice(0, 80))}`)
      length = value
    }
  }
  headers['content-length'] = String(length)
  return length
}

class LengthLimit extends Transform {
  private seen = 0
  constructor (private readonly length: number, private readonly backend: string) {
    super()
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const left = this.length - this.seen
    this.seen += chunk.length
    if (left <= 0) return callback()
    callback(null, chunk.length <= left ? chunk : chunk.subarray(0, left))
  }

  override _flush (callback: TransformCallback): void {
    if (this.seen < this.length) {
      callback(new PrematureCloseError(`${this.backend} sent ${this.seen} of the ${this.length} body bytes its Content-Length announced`))
      return
    }
    callback()
  }
}

/** `body` cut at `length` bytes, failing when it ends before; bytes beyond are read and dropped. */
export function limitToContentLength (body: Readable, length: number, backend: string): Readable {
  const limited = new LengthLimit(length, backend)
  // errors go to `limited` (the reply sees them); a reader that goes away destroys `body` too
  pipeline(body, limited, () => {})
  return limited
}

class Dechunk extends Transform {
  private readonly decoder = new ChunkedBodyDecoder()

  constructor (private readonly backend: string) {
    super()
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk, (data) => this.push(data))
    } catch (err) {
      callback(err as Error)
      return
    }
    callback()
  }

  override _flush (callback: TransformCallback): void {
    callback(this.decoder.done ? null : new PrematureCloseError(`${this.backend} ended its chunked body before the last chunk`))
  }
}

/** `body` with the backend's chunked framing taken off; a malformed or unfinished body fails. */
export function dechunkBody (body: Readable, backend: string): Readable {
  const dechunked = new Dechunk(backend)
  pipeline(body, dechunked, () => {})
  return dechunked
}
