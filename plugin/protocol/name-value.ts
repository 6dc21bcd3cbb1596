// FastCGI name-value pairs (spec 3.4): each length is one byte below 128, otherwise four
// bytes big-endian with the high bit set.
import { ProtocolError } from '../errors'

export type NameValuePair = readonly [name: string, value: string]

const FOUR_BYTE_FLAG = 0x80000000
const MAX_PAIR_LENGTH = 0x7fffffff

/** Bytes a name or value length takes on the wire. */
export function lengthSize (length: number): number {
  return length < 128 ? 1 : 4
}

/** A name or value length: one byte below 128, else four with the high bit set. */
export function writeLength (buf: Buffer, offset: number, length: number): number {
  if (length < 128) {
    buf[offset] = length
    return offset + 1
  }
  buf.writeUInt32BE((length | FOUR_BYTE_FLAG) >>> 0, offset)
  return offset + 4
}

/** Encodes the pairs into one buffer, computing the size first so that there is one allocation. */
export function encodeNameValuePairs (pairs: Iterable<NameValuePair>): Buffer {
  const encoded: Array<[number, number, string, string]> = []
  let total = 0
  for (const [name, value] of pairs) {
    const nameLength = isAscii(name) ? name.length : Buffer.byteLength(name)
    const valueLength = isAscii(value) ? value.length : Buffer.byteLength(value)
    if (nameLength > MAX_PAIR_LENGTH || valueLength > MAX_PAIR_LENGTH) {
      throw new ProtocolError(`name-value pair ${name} is too long`)
    }
    encoded.push([nameLength, valueLength, name, value])
    total += lengthSize(nameLength) + lengthSize(valueLength) + nameLength + valueLength
  }
  const buf = Buffer.allocUnsafe(total)
  let offset = 0
  for (const [nameLength, valueLength, name, value] of encoded) {
    offset = writeLength(buf, offset, nameLength)
    offset = writeLength(buf, offset, valueLength)
    offset += buf.write(name, offset, nameLength, 'utf8')
    offset += buf.write(value, offset, valueLength, 'utf8')
  }
  return buf
}

function isAscii (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false
  }
  return true
}

function readLength (buf: Buffer, offset: number): [length: number, next: number] {
  if (offset >= buf.length) throw new ProtocolError('truncated name-value length')
  const first = buf[offset] as number
  if ((first & 0x80) === 0) return [first, offset + 1]
  if (offset + 4 > buf.length) throw new ProtocolError('truncated four-byte name-value length')
  return [buf.readUInt32BE(offset) & MAX_PAIR_LENGTH, offset + 4]
}

/** Decodes a complete name-value block (the concatenated PARAMS or GET_VALUES content). */
export function decodeNameValuePairs (buf: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  let offset = 0
  while (offset < buf.length) {
    const [nameLength, afterName] = readLength(buf, offset)
    const [valueLength, afterValue] = readLength(buf, afterName)
    const end = afterValue + nameLength + valueLength
    if (end > buf.length) throw new ProtocolError('name-value pair runs past the end of its block')
    pairs.push([
      buf.toString('utf8', afterValue, afterValue + nameLength),
      buf.toString('utf8', afterValue + nameLength, end)
    ])
    offset = end
  }
  return pairs
}
