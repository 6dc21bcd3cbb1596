// Whether a Host (or HTTP/2 :authority) value is a host[:port]. It becomes HTTP_HOST and
// SERVER_NAME, which applications put into URLs, cache keys, file paths and mail links, so a
// value such as `../../etc`, `a b`, `x/y` or `user@evil` is refused (400) rather than passed
// on, as lighttpd's default host check does. The rules (lighttpd's, written here from its
// behaviour): a name is dot-separated labels of letters, digits and `-` (a label neither empty
// nor starting with `-`; one trailing dot allowed); if its last label is all digits it must
// be a dotted IPv4 address of four numbers; an IPv6 literal is `[` hex digits, `:` and `.` `]`;
// an optional port is digits. We also accept `_` in a label (container and service names
// carry it; it is no path or URL syntax), where lighttpd refuses it.

// Nearly every request of a site names the same Host: the last good one is remembered.
let lastValid = ''

/** True when `value` (already lower- or mixed-case, as received) is host[:port]. */
export function isValidHost (value: string): boolean {
  if (value === lastValid) return true
  if (value.length === 0 || value.length > 1024) return false
  const end = value.charCodeAt(0) === 0x5b /* [ */ ? ipLiteralEnd(value) : hostNameEnd(value)
  if (end === -1) return false
  if (end !== value.length && (value.charCodeAt(end) !== 0x3a /* : */ || !isPort(value, end + 1))) return false
  lastValid = value
  return true
}

/** Index after `[...]`, or -1. */
function ipLiteralEnd (value: string): number {
  let i = 1
  let colons = 0
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x5d /* ] */) break
    if (c === 0x3a) {
      if (++colons > 7) return -1
    } else if (!(isHexDigit(c) || c === 0x2e)) return -1
  }
  // `[]` and a missing `]` are no address
  if (i === 1 || i === value.length) return -1
  return i + 1
}

/** Index after a host name (at the `:` of a port, or the end), or -1. */
function hostNameEnd (value: string): number {
  let end = value.indexOf(':')
  if (end === -1) end = value.length
  // one trailing dot (`example.com.`) names the same host
  const name = value.charCodeAt(end - 1) === 0x2e ? value.slice(0, end - 1) : value.slice(0, end)
  if (name === '') return -1
  const labels = name.split('.')
  for (const label of labels) {
    if (!isLabel(label)) return -1
  }
  // a name ending in a numeric label is an IPv4 address: exactly four numbers
  if (isNumeric(labels[labels.length - 1] as string) && (labels.length !== 4 || !labels.every(isNumeric))) return -1
  return end
}

function isLabel (label: string): boolean {
  if (label === '' || label.charCodeAt(0) === 0x2d /* - */) return false
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i)
    if (!(isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f /* _ */)) return false
  }
  return true
}

function isNumeric (label: string): boolean {
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function isPort (value: string, from: number): boolean {
  // `host:` (empty port) names the default port, as RFC 3986 allows
  if (value.length - from > 5) return false
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return value.length === from || Number(value.slice(from)) <= 65535
}

function isLetter (c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)
}

function isHexDigit (c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}
