// The request body, as the backend must get it. By default (requestBuffering, as nginx's
// fastcgi_request_buffering and lighttpd) the whole body is read before the backend is asked:
// a slow upload then holds a socket of ours, not one of the backend's few workers. It is kept
// in memory up to spoolMemoryLimit, then in a 0600 temp file removed when the reply is over,
// and it can be replayed on a retry or failover. With requestBuffering: false a body with a
// Content-Length streams straight through. A body of unknown length (chunked, or HTTP/2
// without content-length) is always spooled, because CGI needs CONTENT_LENGTH (php-fpm waits
// forever without it).
//
// Memory is bounded in bytes, not only per request: the bodies held in memory by one
// registration share spoolMemoryTotal (BodyMemory), and a body that does not fit goes to its
// temp file, so a crowd of uploads cannot hold N x spoolMemoryLimit (nginx keeps 16 KiB a
// request, lighttpd 64 KiB, and both cut idle clients after 60 s; Fastify by default does
// neither). Small chunks are copied together into blocks: a client that sends its body a byte
// per TCP segment would otherwise make the gateway hold one Buffer object (about 270 bytes of
// heap) per byte.
import fs from 'node:fs'
import { Http2ServerRequest } from 'node:http2'
import { Readable } from 'node:stream'
import type { RequestBody, ReplayableBody } from '../client/exchange'
import { BodyTooLargeError, ClientAbortedError } from '../errors'
import { SpoolFile } from './spool-file'
import { bodyChunks } from './body-chunks'
import { BodyMemory, HeldChunks } from './body-memory'
export { BodyMemory } from './body-memory'

export interface PreparedBody {
  readonly body: RequestBody | undefined
  readonly length: number
  /** Removes a temp file, if one was used. */
  readonly dispose: () => void
}

export const NONE: PreparedBody = { body: undefined, length: 0, dispose: () => {} }

export interface BodySource {
  /** what Fastify's content-type parsing left: a stream (our routes), or a parsed value */
  readonly parsed: unknown
  readonly raw: Readable
  readonly contentLength: string | undefined
  readonly transferEncoding: string | undefined
  readonly method: string
}

export interface BodyLimits {
  readonly bodyLimit: number
  readonly spoolMemoryLimit: number
  readonly spoolDirectory: string
  /** Read the whole body before the backend is asked (false: stream a Content-Length body). */
  readonly requestBuffering: boolean
  /** what the bodies held in memory may take together; default: no bound beyond spoolMemoryLimit */
  readonly memory?: BodyMemory
  /** ms the client may send nothing while its body is being buffered (clientBodyTimeout); 0 or none: no deadline */
  readonly idleTimeout?: number
}

function hasBody (source: BodySource): boolean {
  if (source.transferEncoding !== undefined) return true
  if (source.contentLength !== undefined) return source.contentLength !== '0'
  // HTTP/2 frames the body itself: content-length is optional, and only a HEADERS frame that
  // ended the stream says there is none
  return source.raw instanceof Http2ServerRequest && !source.raw.stream.endAfterHeaders
}

/**
 * What is left of a client's body once its reply is over is read and dropped, as node:http does
 * for a handler that never reads: a streamed body (requestBuffering: false) that the backend
 * answered before reading it all was left paused, and the client's connection then hung,
 * neither able to finish its upload nor to send its next request. Bounded by bodyLimit.
 */
export function drainUnread (source: Pick<BodySource, 'parsed' | 'raw'>): void {
  const stream = source.parsed instanceof Readable ? source.parsed : source.raw
  if (!stream.readableEnded && !stream.destroyed) stream.resume()
}

/** Settles at once (no promise) unless the body must be spooled. */
export function prepareBody (source: BodySource, limits: BodyLimits): PreparedBody | Promise<PreparedBody> {
  const { parsed } = source
  // a value that an application route already parsed (reply.fastcgi from its own handler)
  if (parsed !== undefined && parsed !== null && !(parsed instanceof Readable)) {
    const buf = Buffer.isBuffer(parsed) ? parsed : Buffer.from(typeof parsed === 'string' ? parsed : JSON.stringify(parsed))
    return buf.length === 0 ? NONE : { body: buf, length: buf.length, dispose: () => {} }
  }
  if (!hasBody(source)) return NONE
  const stream = parsed instanceof Readable ? parsed : source.raw
  if (source.contentLength !== undefined && source.transferEncoding === undefined) {
    const length = Number(source.contentLength)
    if (length > limits.bodyLimit) {
      stream.resume()
      return Promise.reject(new BodyTooLargeError(limits.bodyLimit))
    }
    if (!limits.requestBuffering) return { body: stream, length, dispose: () => {} }
  }
  return spool(stream, limits)
}

async function spool (stream: Readable, limits: BodyLimits): Promise<PreparedBody> {
  const held = new HeldChunks()
  const memory = limits.memory
  /** bytes this body has taken of limits.memory */
  let taken = 0
  const giveBack = (): void => {
    memory?.give(taken)
    taken = 0
  }
  let length = 0
  let file: SpoolFile | undefined
  try {
    for await (const chunk of bodyChunks(stream, limits.idleTimeout ?? 0)) {
      length += chunk.length
      if (length > limits.bodyLimit) throw new BodyTooLargeError(limits.bodyLimit)
      if (file === undefined) {
        const reserved = held.reservedWith(chunk)
        if (length <= limits.spoolMemoryLimit && (memory === undefined || memory.tryTake(reserved - taken))) {
          if (memory !== undefined) taken = reserved
          held.add(chunk)
          continue
        }
        file = new SpoolFile(limits.spoolDirectory)
        const chunks = held.takeAll()
        giveBack()
        for (const piece of chunks) await file.write(piece)
      }
      await file.write(chunk)
    }
    await file?.finish()
  } catch (err) {
    giveBack()
    file?.discard()
    stream.resume()
    // a client that went away mid-upload (node:http's ECONNRESET 'aborted', or a close before
    // the end) is its doing: logged as such (499 at info), not as a server error
    throw clientWentAway(err) ? new ClientAbortedError() : err
  }
  if (file === undefined) {
    if (length === 0) {
      giveBack()
      return NONE
    }
    const chunks = held.takeAll()
    const buf = Buffer.concat(chunks, length)
    // held now: the one buffer
    if (memory !== undefined) {
      memory.give(taken - buf.length)
      taken = buf.length
    }
    let disposed = false
    return { body: buf, length, dispose: () => { if (!disposed) { disposed = true; giveBack() } } }
  }
  const spooled = file.path
  const body: ReplayableBody = { length, open: () => fs.createReadStream(spooled) }
  return { body, length, dispose: () => fs.rm(spooled, { force: true }, () => {}) }
}

/** The upload's own failure when its client went away (not a limit of ours, nor the spool file's). */
function clientWentAway (err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? err.code : undefined
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE'
}
