// A streaming record decoder: correct under any fragmentation of its input (one byte at a
// time included). A record whose content lies inside one input chunk is handed on as a view
// of that chunk, without a copy; only a record split across chunks is assembled.
import { HEADER_LENGTH, VERSION_1 } from './constants'
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

  constructor (private readonly onRecord: RecordHandler) {}

  /** Throws ProtocolError on a version other than 1; the caller must then drop the connection. */
  push (chunk: Buffer): void {
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
          this.finishRecord(EMPTY)
          continue
        }
        if (length - offset >= this.contentLength) {
          const content = chunk.subarray(offset, offset + this.contentLength)
          offset += this.contentLength
          this.finishRecord(content)
          continue
        }
        this.inRecord = true
        this.content = Buffer.allocUnsafe(this.contentLength)
        this.contentFilled = 0
      }
      const content = this.content as Buffer
      const take = Math.min(this.contentLength - this.contentFilled, length - offset)
      chunk.copy(content, this.contentFilled, offset, offset + take)
      this.contentFilled += take
      offset += take
      if (this.contentFilled === this.contentLength) {
        this.inRecord = false
        this.content = undefined
        this.finishRecord(content)
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

  private finishRecord (content: Buffer): void {
    // padding is skipped before the next header; set it aside so the handler may throw safely
    this.onRecord(this.type, this.requestId, content)
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
