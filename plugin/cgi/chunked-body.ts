// A backend that says `Transfer-Encoding: chunked` frames its own body in chunks. The
// gateway frames the client's response itself (Content-Length, or Node's own chunking), so
// the backend's framing is taken off, as lighttpd does: passed through, the chunk sizes would
// reach the client as body bytes. Incremental: correct under any split of its input.
// Chunk extensions and trailers are read and dropped (a trailer is not a header: RFC 9110
// 6.5.1 forbids merging it into the head, and the head has gone out by then).
import { BadChunkedBodyError, BadResponseHeaderError } from '../errors'

enum State { Size, Extension, SizeEnd, Data, DataEnd, Trailer, Done }

const CR = 0x0d
const LF = 0x0a
/** 15 hex digits: more than any body, and still a safe integer */
const MAX_SIZE_DIGITS = 15
/** chunk extensions and trailer lines together; a backend sending more is broken */
const MAX_METADATA = 16 * 1024

export class ChunkedBodyDecoder {
  private state = State.Size
  private size = 0
  private sizeDigits = 0
  private left = 0
  /** bytes of the current trailer line; 0 at the start of a line */
  private lineLength = 0
  private metadata = 0

  /** The last chunk and the trailer section have been read. */
  get done (): boolean {
    return this.state === State.Done
  }

  /**
   * Decodes `chunk`, handing each piece of body data to `onData` as a view of `chunk`.
   * Bytes after the end are ignored. Throws BadChunkedBodyError on a framing error.
   */
  push (chunk: Buffer, onData: (data: Buffer) => void): void {
    let i = 0
    const length = chunk.length
    while (i < length && this.state !== State.Done) {
      if (this.state === State.Data) {
        const take = Math.min(this.left, length - i)
        onData(chunk.subarray(i, i + take))
        this.left -= take
        i += take
        if (this.left === 0) this.state = State.DataEnd
        continue
      }
      this.step(chunk[i] as number)
      i++
    }
  }

  private step (byte: number): void {
    switch (this.state) {
      case State.Size: {
        const digit = hexValue(byte)
        if (digit >= 0) {
          if (++this.sizeDigits > MAX_SIZE_DIGITS) throw new BadChunkedBodyError('chunk size too long')
          this.size = this.size * 16 + digit
          return
        }
        if (this.sizeDigits === 0) throw new BadChunkedBodyError(`chunk size expected, got byte ${byte}`)
        if (byte === 0x3b || byte === 0x20 || byte === 0x09) this.state = State.Extension
        else this.endSizeLine(byte)
        return
      }
      case State.Extension:
        if (byte === CR || byte === LF) this.endSizeLine(byte)
        else this.countMetadata()
        return
      case State.SizeEnd:
        if (byte !== LF) throw new BadChunkedBodyError('CR without LF after a chunk size')
        this.startChunk()
        return
      case State.DataEnd:
        // CRLF after the data; a lone LF is accepted, as most HTTP parsers do
        if (byte === CR) return
        if (byte !== LF) throw new BadChunkedBodyError('chunk data longer than its size')
        this.state = State.Size
        return
      case State.Trailer:
        if (byte === CR) return
        if (byte === LF) {
          if (this.lineLength === 0) this.state = State.Done
          this.lineLength = 0
          return
        }
        this.lineLength++
        this.countMetadata()
    }
  }

  private endSizeLine (byte: number): void {
    if (byte === CR) this.state = State.SizeEnd
    else if (byte === LF) this.startChunk()
    else throw new BadChunkedBodyError(`unexpected byte ${byte} in a chunk size line`)
  }

  private startChunk (): void {
    this.left = this.size
    this.size = 0
    this.sizeDigits = 0
    this.state = this.left === 0 ? State.Trailer : State.Data
  }

  private countMetadata (): void {
    if (++this.metadata > MAX_METADATA) throw new BadChunkedBodyError(`chunk extensions and trailers over ${MAX_METADATA} bytes`)
  }
}

/**
 * Checks a backend's Transfer-Encoding (all its values, joined): `chunked` alone is understood;
 * anything else (gzip, a chain) cannot be taken off, and is a 502 as in lighttpd 1.4.80.
 */
export function checkTransferEncoding (value: string): void {
  if (value.trim().toLowerCase() !== 'chunked') throw new BadResponseHeaderError(`Transfer-Encoding ${JSON.stringify(value.slice(0, 40))} is not supported`)
}

/** A whole chunked body, decoded; throws BadChunkedBodyError when it is malformed or incomplete. */
export function decodeChunkedBody (body: Buffer): Buffer {
  const decoder = new ChunkedBodyDecoder()
  const pieces: Buffer[] = []
  let total = 0
  decoder.push(body, (data) => {
    pieces.push(data)
    total += data.length
  })
  if (!decoder.done) throw new BadChunkedBodyError('the body ends before its last chunk')
  return pieces.length === 1 ? pieces[0] as Buffer : Buffer.concat(pieces, total)
}

function hexValue (byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  const lower = byte | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10
  return -1
}
