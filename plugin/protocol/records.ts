// Encoding of FastCGI records (spec 3.3). We never send padding: it is optional for the
// sender, and every byte saved matters on the hot path.
import { HEADER_LENGTH, KEEP_CONN, MAX_CONTENT_LENGTH, NULL_REQUEST_ID, RecordType, VERSION_1 } from './constants'
import type { Role } from './constants'
import { encodeNameValuePairs, lengthSize, writeLength } from './name-value'
import type { NameValuePair } from './name-value'
import { ProtocolError } from '../errors'

export function writeRecordHeader (buf: Buffer, offset: number, type: RecordType, requestId: number, contentLength: number, paddingLength = 0): number {
  buf[offset] = VERSION_1
  buf[offset + 1] = type
  buf.writeUInt16BE(requestId, offset + 2)
  buf.writeUInt16BE(contentLength, offset + 4)
  buf[offset + 6] = paddingLength
  buf[offset + 7] = 0
  return offset + HEADER_LENGTH
}

/** An 8-byte header alone, for streaming a payload that is written separately (no copy of it). */
export function encodeRecordHeader (type: RecordType, requestId: number, contentLength: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH)
  writeRecordHeader(buf, 0, type, requestId, contentLength)
  return buf
}

export function encodeRecord (type: RecordType, requestId: number, content?: Uint8Array, paddingLength = 0): Buffer {
  const length = content === undefined ? 0 : content.length
  if (length > MAX_CONTENT_LENGTH) throw new RangeError(`record content of ${length} bytes exceeds ${MAX_CONTENT_LENGTH}`)
  const buf = Buffer.alloc(HEADER_LENGTH + length + paddingLength)
  writeRecordHeader(buf, 0, type, requestId, length, paddingLength)
  if (content !== undefined) buf.set(content, HEADER_LENGTH)
  return buf
}

/** Size of `data` once framed as stream records of at most 65535 bytes each. */
export function framedLength (dataLength: number): number {
  return dataLength + HEADER_LENGTH * Math.ceil(dataLength / MAX_CONTENT_LENGTH)
}

/** Writes `data` as consecutive stream records into `buf` at `offset`; returns the new offset. */
export function writeStreamRecords (buf: Buffer, offset: number, type: RecordType, requestId: number, data: Uint8Array): number {
  for (let start = 0; start < data.length; start += MAX_CONTENT_LENGTH) {
    const end = Math.min(start + MAX_CONTENT_LENGTH, data.length)
    offset = writeRecordHeader(buf, offset, type, requestId, end - start)
    buf.set(data.subarray(start, end), offset)
    offset += end - start
  }
  return offset
}

/** `data` as stream records; an empty `data` gives the empty record that ends a stream. */
export function encodeStream (type: RecordType, requestId: number, data: Uint8Array): Buffer {
  if (data.length === 0) return encodeRecord(type, requestId)
  const buf = Buffer.allocUnsafe(framedLength(data.length))
  writeStreamRecords(buf, 0, type, requestId, data)
  return buf
}

export function encodeBeginRequest (requestId: number, role: Role, keepConn: boolean): Buffer {
  const buf = Buffer.alloc(HEADER_LENGTH + 8)
  writeRecordHeader(buf, 0, RecordType.BEGIN_REQUEST, requestId, 8)
  buf.writeUInt16BE(role, HEADER_LENGTH)
  buf[HEADER_LENGTH + 2] = keepConn ? KEEP_CONN : 0
  return buf
}

export function encodeEndRequest (requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const buf = Buffer.alloc(HEADER_LENGTH + 8)
  writeRecordHeader(buf, 0, RecordType.END_REQUEST, requestId, 8)
  buf.writeUInt32BE(appStatus >>> 0, HEADER_LENGTH)
  buf[HEADER_LENGTH + 4] = protocolStatus
  return buf
}

export function encodeAbortRequest (requestId: number): Buffer {
  return encodeRecord(RecordType.ABORT_REQUEST, requestId)
}

/**
 * Where the PARAMS records of an encoded pair list begin and end ([start, end, start, end, ...]):
 * whole pairs only, as many as fit in a record, because PHP (main/fastcgi.c) decodes each
 * record on its own and drops the connection when a pair runs into the next record. Only a
 * pair longer than a record is cut (the specification allows any cut; PHP cannot take such a
 * pair at all).
 */
function paramsSegments (pairs: Buffer): number[] {
  const bounds: number[] = []
  let start = 0
  let end = 0
  while (end < pairs.length) {
    const next = end + pairLength(pairs, end)
    if (next - start <= MAX_CONTENT_LENGTH) {
      end = next
      continue
    }
    if (end > start) {
      bounds.push(start, end)
      start = end
      continue
    }
    // one pair alone is longer than a record
    for (; start + MAX_CONTENT_LENGTH < next; start += MAX_CONTENT_LENGTH) bounds.push(start, start + MAX_CONTENT_LENGTH)
    bounds.push(start, next)
    start = end = next
  }
  if (end > start) bounds.push(start, end)
  return bounds
}

/** Bytes of the encoded pair at `offset` (its two lengths, name and value). */
function pairLength (pairs: Buffer, offset: number): number {
  let at = offset
  let total = 0
  for (let k = 0; k < 2; k++) {
    const first = pairs[at] as number
    if ((first & 0x80) === 0) {
      total += first
      at += 1
    } else {
      total += pairs.readUInt32BE(at) & 0x7fffffff
      at += 4
    }
  }
  return at - offset + total
}

/**
 * Everything that opens a request, in one buffer so that it goes out in one write:
 * BEGIN_REQUEST, the params (one PARAMS record when they fit, several when they do not, each
 * holding whole pairs: nothing is truncated or refused), the empty PARAMS record, and, when there is no body,
 * the empty STDIN record too (some backends answer as soon as they have the params).
 */
export function encodeRequestHead (requestId: number, role: Role, keepConn: boolean, params: Iterable<NameValuePair>, withoutBody: boolean): Buffer {
  const list = Array.isArray(params) ? params as readonly NameValuePair[] : [...params]
  return encodeOneRecordHead(requestId, role, keepConn, list, withoutBody) ?? encodeHeadFromPairs(requestId, role, keepConn, list, withoutBody)
}

/** Bytes around the params: BEGIN_REQUEST, the empty PARAMS record, and the empty STDIN when there is no body. */
function headFrameLength (withoutBody: boolean): number {
  return HEADER_LENGTH + 8 + HEADER_LENGTH + (withoutBody ? HEADER_LENGTH : 0)
}

function writeHeadEnd (buf: Buffer, offset: number, requestId: number, withoutBody: boolean): void {
  offset = writeRecordHeader(buf, offset, RecordType.PARAMS, requestId, 0)
  if (withoutBody) writeRecordHeader(buf, offset, RecordType.STDIN, requestId, 0)
}

function writeBeginRequest (buf: Buffer, requestId: number, role: Role, keepConn: boolean): number {
  const offset = writeRecordHeader(buf, 0, RecordType.BEGIN_REQUEST, requestId, 8)
  buf.writeUInt16BE(role, offset)
  buf[offset + 2] = keepConn ? KEEP_CONN : 0
  buf.fill(0, offset + 3, offset + 8)
  return offset + 8
}

/**
 * The usual case: params that fit one PARAMS record, copied code unit by code unit straight
 * into the head (each is one byte, see name-value.ts). No string is built and no buffer but
 * the head is allocated (the params are the largest allocation of a request otherwise).
 * Undefined when the params do not fit one record: encodeHeadFromPairs then does it.
 */
function encodeOneRecordHead (requestId: number, role: Role, keepConn: boolean, list: readonly NameValuePair[], withoutBody: boolean): Buffer | undefined {
  let pairsLength = 0
  for (let i = 0; i < list.length; i++) {
    const pair = list[i] as NameValuePair
    const n = pair[0].length
    const v = pair[1].length
    pairsLength += lengthSize(n) + lengthSize(v) + n + v
  }
  if (pairsLength === 0 || pairsLength > MAX_CONTENT_LENGTH) return undefined
  const buf = Buffer.allocUnsafe(headFrameLength(withoutBody) + HEADER_LENGTH + pairsLength)
  let offset = writeBeginRequest(buf, requestId, role, keepConn)
  offset = writeRecordHeader(buf, offset, RecordType.PARAMS, requestId, pairsLength)
  for (let i = 0; i < list.length; i++) {
    const pair = list[i] as NameValuePair
    const name = pair[0]
    const value = pair[1]
    offset = writeLength(buf, offset, name.length)
    offset = writeLength(buf, offset, value.length)
    if ((offset = copyBytes(buf, offset, name)) < 0 || (offset = copyBytes(buf, offset, value)) < 0) {
      throw new ProtocolError(`name-value pair ${name.slice(0, 64)} is not a byte string`)
    }
  }
  writeHeadEnd(buf, offset, requestId, withoutBody)
  return buf
}

/** Copies a byte string; -1 at the first code unit that is not a byte. */
function copyBytes (buf: Buffer, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0xff) return -1
    buf[offset + i] = c
  }
  return offset + text.length
}

/** Params too large for one record: split across PARAMS records of whole pairs. */
function encodeHeadFromPairs (requestId: number, role: Role, keepConn: boolean, list: readonly NameValuePair[], withoutBody: boolean): Buffer {
  const pairs = encodeNameValuePairs(list)
  const segments = paramsSegments(pairs)
  const paramsSize = pairs.length + HEADER_LENGTH * segments.length / 2
  const buf = Buffer.allocUnsafe(headFrameLength(withoutBody) + paramsSize)
  let offset = writeBeginRequest(buf, requestId, role, keepConn)
  for (let i = 0; i < segments.length; i += 2) {
    const start = segments[i] as number
    const end = segments[i + 1] as number
    offset = writeRecordHeader(buf, offset, RecordType.PARAMS, requestId, end - start)
    offset += pairs.copy(buf, offset, start, end)
  }
  writeHeadEnd(buf, offset, requestId, withoutBody)
  return buf
}

/** FCGI_GET_VALUES asking for the given variables (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS). */
export function encodeGetValues (names: readonly string[]): Buffer {
  return encodeRecord(RecordType.GET_VALUES, NULL_REQUEST_ID, encodeNameValuePairs(names.map((name) => [name, ''] as const)))
}
