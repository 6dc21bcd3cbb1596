// Params travel as byte strings (protocol/name-value.ts): one code unit per byte. Values read
// from the client (header values, the request-target) already are, since Node reads them as
// latin1. Text (a decoded path, a file name, an application's params) is not: it becomes the
// byte string of its UTF-8 encoding here, so that `é` in a path is sent as C3 A9, exactly
// the bytes the client percent-encoded.

/** The UTF-8 bytes of `text` as a byte string; ASCII text is returned as it is. */
export function toByteString (text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1')
  }
  return text
}

/**
 * Text from a byte string that holds UTF-8 (an authorizer's Variable-* header value): invalid
 * sequences become U+FFFD. ASCII is returned as it is.
 */
export function textFromBytes (bytes: string): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) > 0x7f) return Buffer.from(bytes, 'latin1').toString('utf8')
  }
  return bytes
}
