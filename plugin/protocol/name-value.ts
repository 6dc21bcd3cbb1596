// FastCGI name-value pairs (spec 3.4): each length is one byte below 128, otherwise four
// bytes big-endian with the high bit set.
//
// Names and values are byte strings: each UTF-16 code unit is one byte (0..255), the way Node
// hands header values and request-targets to JavaScript (latin1). Encoding them as latin1
// sends the client's bytes unchanged; encoding them as UTF-8 would encode a second time (`é`
// sent as C3 A9 arrives as `Ã©`). Text (decoded paths, file names, application params) is
// turned into its UTF-8 byte string by the cgi layer (toByteString) before it gets here.
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
    const nameLength = name.length
    const valueLength = value.length
    if (nameLength > MAX_PAIR_LENGTH || valueLength > MAX_PAIR_LENGTH) {
      throw new ProtocolError(`name-value pair ${name.slice(0, 64)} is too long`)
    }
    if (!isByteString(name) || !isByteString(value)) throw new ProtocolError(`name-value pair ${name.slice(0, 64)} is not a byte string`)
    encoded.push([nameLength, valueLength, name, value])
    total += lengthSize(nameLength) + lengthSize(valueLength) + nameLength + valueLength
  }
  const buf = Buffer.allocUnsafe(total)
  let offset = 0
  for (const [nameLength, valueLength, name, value] of encoded) {
    offset = writeLength(buf, offset, nameLength)
    offset = writeLength(buf, offset, valueLength)
    offset += buf.write(name, offset, nameLength, 'latin1')
    offset += buf.write(value, offset, valueLength, 'latin1')
  }
  return buf
}

/** Every code unit is a byte (latin1 would silently keep only the low byte of the others). */
export function isByteString (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return false
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

/** Decodes a complete name-value block (the concatenated PARAMS or GET_VALUES content) into byte strings. */
export function decodeNameValuePairs (buf: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  let offset = 0
  while (offset < buf.length) {
    const [nameLength, afterName] = readLength(buf, offset)
    const [valueLength, afterValue] = readLength(buf, afterName)
    const end = afterValue + nameLength + valueLength
    if (end > buf.length) throw new ProtocolError('name-value pair runs past the end of its block')
    pairs.push([
      buf.toString('latin1', afterValue, afterValue + nameLength),
      buf.toString('latin1', afterValue + nameLength, end)
    ])
    offset = end
  }
  return pairs
}
