// The chunks of a client's request body, as `for await` gives them, with an idle deadline
// (clientBodyTimeout): a client that sends nothing for that long ends the read with
// ClientBodyTimeoutError. Fastify's own timeouts are off by default, so without this a client
// that stops halfway through an upload holds its socket, its temp file and its share of
// spoolMemoryTotal for as long as it keeps the connection open (nginx and lighttpd cut it
// after 60 s). Only the time spent waiting for the client counts: the time the consumer takes
// between chunks (a temp file's write) is ours. The stream is not destroyed on the deadline,
// which would reset the connection: the 408 can still go out on it.
import type { Readable } from 'node:stream'
import { ClientAbortedError, ClientBodyTimeoutError } from '../errors'

type Wake = 'readable' | 'end'

export async function * bodyChunks (stream: Readable, idleMs: number): AsyncGenerator<Buffer, void, undefined> {
  // listened to for the whole read, also while the consumer works between chunks: an 'error'
  // with no listener would end the process
  let failure: Error | undefined
  const onError = (err: Error): void => { failure ??= err }
  stream.on('error', onError)
  try {
    for (;;) {
      if (failure !== undefined) throw failure
      const chunk: unknown = stream.read()
      if (chunk !== null) {
        yield asBuffer(chunk, stream.readableEncoding)
        continue
      }
      if (stream.readableEnded) return
      if (stream.destroyed) throw stream.errored ?? new ClientAbortedError()
      // a message the parser has seen whole cannot stall: only its 'end' is to come (no timer,
      // the usual case for a small body)
      if (await nextWake(stream, received(stream) ? 0 : idleMs) === 'end') return
    }
  } finally {
    stream.removeListener('error', onError)
  }
}

/**
 * A chunk as the bytes the client sent: a string (a stream someone called setEncoding() on)
 * goes back through that encoding, not through UTF-8 (latin1 or base64 text would be other
 * bytes), and a Uint8Array (from an object-mode stream) is viewed, not turned
 * into the text "97,98".
 */
function asBuffer (chunk: unknown, encoding: BufferEncoding | null): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(String(chunk))
}

/** node:http's and node:http2's requests say when the whole message has arrived. */
function received (stream: Readable): boolean {
  return 'complete' in stream && stream.complete === true
}

/** Waits for data or the end; rejects on the stream's error, a close before its end, or the deadline. */
function nextWake (stream: Readable, idleMs: number): Promise<Wake> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      stream.removeListener('readable', onReadable)
      stream.removeListener('end', onEnd)
      stream.removeListener('error', onError)
      stream.removeListener('close', onClose)
    }
    const onReadable = (): void => { settle(); resolve('readable') }
    const onEnd = (): void => { settle(); resolve('end') }
    const onError = (err: Error): void => { settle(); reject(err) }
    // 'close' after 'end' is the normal order, and onEnd has settled by then
    const onClose = (): void => { settle(); reject(stream.errored ?? new ClientAbortedError()) }
    const timer = idleMs > 0 ? setTimeout(() => { settle(); reject(new ClientBodyTimeoutError(idleMs)) }, idleMs) : undefined
    stream.on('readable', onReadable)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}
