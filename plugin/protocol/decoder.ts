// A streaming record decoder: correct under any fragmentation of its input (one byte at a
// time included). A record whose content lies inside one input chunk is handed on as a view
// of that chunk, without a copy; only a record split across chunks is assembled.
//
// With `ownsInput` (the caller hands over chunks nobody else reads, as a socket does),
// STDOUT and STDERR, whose records are pieces of one byte stream, are handed on differently:
// the pieces of one chunk are moved together inside that chunk (closing the gaps the record
// headers and padding leave) and handed on as one view, and a record split across chunks is
// handed on piece by piece. A 64 KiB read of 8 KiB records then becomes one view, not eight
// views or a copy, and no STDOUT record is ever assembled.
import { HEADER_LENGTH, RecordType, VERSION_1 } from './constants'
import { ProtocolError } from '../errors'

export type RecordHandler = (type: number, requestId: number, content: Buffer) => void

const EMPTY = Buffer.alloc(0)

export class RecordDecoder {
  private readonly header = Buffer.alloc(HEADER_LENGTH)
  private headerFilled = 0
  private type = 0
  private requestId = 0
  private contentLength = 0
  private paddingLeft = 0
  private content: Buffer | undefined
  private contentFilled = 0
  private inRecord = false
  /** ownsInput: a STDOUT/STDERR record split across chunks, handed on as it arrives (contentFilled counts it) */
  private streaming = false
  // ownsInput: the run of stream bytes gathered in the current chunk, [runStart, runEnd)
  private runType = 0
  private runId = 0
  private runStart = 0
  private runEnd = 0

  constructor (private readonly onRecord: RecordHandler, private readonly ownsInput = false) {}

  /**
   * Throws ProtocolError on a version other than 1; the caller must then drop the connection.
   * With ownsInput, the chunk's bytes may be moved.
   */
  push (chunk: Buffer): void {
    try {
      this.decode(chunk)
    } catch (err) {
      // the stream bytes before the fault are handed on, as whole records before it are;
      // the fault is what the caller hears about
      try {
        this.flushRun(chunk)
      } catch {}
      throw err
    }
    this.flushRun(chunk)
  }

  private decode (chunk: Buffer): void {
    let offset = 0
    const length = chunk.length
    while (offset < length) {
      if (!this.inRecord) {
        if (this.paddingLeft > 0) {
          const skip = Math.min(this.paddingLeft, length - offset)
          this.paddingLeft -= skip
          offset += skip
          continue
        }
        if (this.headerFilled === 0 && length - offset >= HEADER_LENGTH) {
          offset = this.readHeader(chunk, offset)
        } else {
          const take = Math.min(HEADER_LENGTH - this.headerFilled, length - offset)
          chunk.copy(this.header, this.headerFilled, offset, offset + take)
          this.headerFilled += take
          offset += take
          if (this.headerFilled < HEADER_LENGTH) return
          this.headerFilled = 0
          this.readHeader(this.header, 0)
        }
        if (this.contentLength === 0) {
          this.finishRecord(chunk, EMPTY)
          continue
        }
        const isStream = this.ownsInput && (this.type === RecordType.STDOUT || this.type === RecordType.STDERR)
        if (length - offset >= this.contentLength) {
          const end = offset + this.contentLength
          if (isStream) this.addToRun(chunk, offset, end)
          else this.finishRecord(chunk, chunk.subarray(offset, end))
          offset = end
          continue
        }
        this.inRecord = true
        this.streaming = isStream
        if (!isStream) this.content = Buffer.allocUnsafe(this.contentLength)
        this.contentFilled = 0
      }
      if (this.streaming) {
        const take = Math.min(this.contentLength - this.contentFilled, length - offset)
        this.addToRun(chunk, offset, offset + take)
        this.contentFilled += take
        offset += take
        if (this.contentFilled === this.contentLength) {
          this.inRecord = false
          this.streaming = false
        }
        continue
      }
      const content = this.content as Buffer
      const take = Math.min(this.contentLength - this.contentFilled, length - offset)
      chunk.copy(content, this.contentFilled, offset, offset + take)
      this.contentFilled += take
      offset += take
      if (this.contentFilled === this.contentLength) {
        this.inRecord = false
        this.content = undefined
        this.finishRecord(chunk, content)
      }
    }
  }

  /** True when no record is partly received: a connection closing now lost nothing. */
  get idle (): boolean {
    return !this.inRecord && this.headerFilled === 0 && this.paddingLeft === 0
  }

  private readHeader (buf: Buffer, offset: number): number {
    const version = buf[offset] as number
    if (version !== VERSION_1) throw new ProtocolError(`unsupported record version ${version}`)
    this.type = buf[offset + 1] as number
    this.requestId = buf.readUInt16BE(offset + 2)
    this.contentLength = buf.readUInt16BE(offset + 4)
    this.paddingLeft = buf[offset + 6] as number
    return offset + HEADER_LENGTH
  }

  private finishRecord (chunk: Buffer, content: Buffer): void {
    // stream bytes gathered before this record go first, in order
    this.flushRun(chunk)
    // padding is skipped before the next header; set it aside so the handler may throw safely
    this.onRecord(this.type, this.requestId, content)
  }

  /** Adds chunk[start, end) of the current stream record to the run, moving it down to the run's end. */
  private addToRun (chunk: Buffer, start: number, end: number): void {
    if (end === start) return
    if (this.runEnd > this.runStart && (this.runType !== this.type || this.runId !== this.requestId)) this.flushRun(chunk)
    if (this.runEnd === this.runStart) {
      this.runType = this.type
      this.runId = this.requestId
      this.runStart = start
      this.runEnd = end
      return
    }
    // what lies between is headers and padding already read: the bytes move down over them
    chunk.copyWithin(this.runEnd, start, end)
    this.runEnd += end - start
  }

  private flushRun (chunk: Buffer): void {
    if (this.runEnd === this.runStart) return
    const view = chunk.subarray(this.runStart, this.runEnd)
    this.runStart = this.runEnd = 0
    this.onRecord(this.runType, this.runId, view)
  }
}

export interface EndRequestBody { readonly appStatus: number, readonly protocolStatus: number }

export function parseEndRequestBody (content: Buffer): EndRequestBody {
  if (content.length < 8) throw new ProtocolError(`END_REQUEST body of ${content.length} bytes, expected 8`)
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4] as number }
}

export interface BeginRequestBody { readonly role: number, readonly keepConn: boolean }

export function parseBeginRequestBody (content: Buffer): BeginRequestBody {
  if (content.length < 8) throw new ProtocolError(`BEGIN_REQUEST body of ${content.length} bytes, expected 8`)
  return { role: content.readUInt16BE(0), keepConn: ((content[2] as number) & 1) === 1 }
}
