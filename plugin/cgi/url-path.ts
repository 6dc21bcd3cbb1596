// Request-target -> decoded, normalized URL path, the way lighttpd produces `uri.path` before
// any mapping is done. Everything downstream (key matching, PATH_INFO split, filesystem paths)
// relies on this path being absolute and free of dot-segments, so this is a security boundary.
import { BadRequestPathError } from '../errors'

export interface RequestTarget {
  /** decoded, dot-segment free, always starting with '/' */
  readonly path: string
  /** raw query (still percent-encoded), '' when the target has none */
  readonly query: string
}

const SLASH = 0x2f
const PERCENT = 0x25

// fatal: a lossy decode would let two different byte strings name the same file
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reduces an absolute-form target (`http://host/x?y`) to origin form (`/x?y`); any other target
 * is returned unchanged. lighttpd does the same for REQUEST_URI.
 */
export function originForm (target: string): string {
  if (target.length === 0 || target.charCodeAt(0) === SLASH) return target
  const schemeEnd = findSchemeEnd(target)
  if (schemeEnd === -1) return target
  const authorityStart = schemeEnd + 3
  let i = authorityStart
  while (i < target.length) {
    const c = target.charCodeAt(i)
    if (c === SLASH || c === 0x3f /* ? */ || c === 0x23 /* # */) break
    i++
  }
  if (i === target.length) return '/'
  return target.charCodeAt(i) === SLASH ? target.slice(i) : '/' + target.slice(i)
}

// Index of ':' in a leading `scheme://`, or -1. Hand-rolled: this runs per request.
function findSchemeEnd (target: string): number {
  const first = target.charCodeAt(0)
  if (!isAlpha(first)) return -1
  for (let i = 1; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === 0x3a /* : */) {
      return target.charCodeAt(i + 1) === SLASH && target.charCodeAt(i + 2) === SLASH ? i : -1
    }
    if (!(isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return -1
  }
  return -1
}

function isAlpha (c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

/**
 * Splits a request-target into decoded normalized path and raw query.
 * Throws BadRequestPathError for bad escapes, invalid UTF-8, NUL and other control characters.
 */
export function normalizeRequestTarget (rawTarget: string): RequestTarget {
  let target = originForm(rawTarget)
  if (target.charCodeAt(0) !== SLASH) {
    // `OPTIONS *` concerns the server, not a resource: give it the root rather than a file name
    if (target === '*') return { path: '/', query: '' }
    throw new BadRequestPathError(`not an origin-form target: ${JSON.stringify(rawTarget.slice(0, 200))}`)
  }
  // A fragment never names a resource; browsers do not send one, so drop it rather than let
  // `#` become part of a file name.
  const hash = target.indexOf('#')
  if (hash !== -1) target = target.slice(0, hash)
  const q = target.indexOf('?')
  const rawPath = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q + 1)
  return { path: removeDotSegments(decodePath(rawPath)), query }
}

/**
 * Percent-decodes a path as UTF-8. Characters U+0080..U+00FF are taken as the raw bytes they
 * stand for, because Node's parsers hand non-ASCII target bytes to JS as latin1.
 */
export function decodePath (raw: string): string {
  let needsBytes = false
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (isControl(c)) throw new BadRequestPathError(controlMessage(c))
    if (c === PERCENT || c > 0x7f) { needsBytes = true; break }
  }
  if (!needsBytes) return raw

  const bytes = new Uint8Array(raw.length)
  let n = 0
  let ascii = true
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    let b: number
    if (c === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1))
      const lo = hexValue(raw.charCodeAt(i + 2))
      if (hi === -1 || lo === -1) throw new BadRequestPathError('malformed percent-escape')
      b = (hi << 4) | lo
      i += 2
    } else if (c > 0xff) {
      throw new BadRequestPathError('character outside the byte range in request-target')
    } else {
      b = c
    }
    // CR and LF in PATH_INFO (CVE-2019-11043) and other controls in a file name: lighttpd's
    // url-ctrls-reject refuses them too
    if (isControl(b)) throw new BadRequestPathError(controlMessage(b))
    if (b > 0x7f) ascii = false
    bytes[n++] = b
  }
  if (ascii) return Buffer.from(bytes.buffer, 0, n).toString('latin1')
  try {
    return utf8.decode(bytes.subarray(0, n))
  } catch {
    throw new BadRequestPathError('path is not valid UTF-8')
  }
}

/** C0 controls and DEL; a decoded path holding one is refused. */
function isControl (c: number): boolean {
  return c < 0x20 || c === 0x7f
}

function controlMessage (c: number): string {
  return c === 0 ? 'NUL byte in path' : `control character 0x${c.toString(16).padStart(2, '0')} in path`
}

function hexValue (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/**
 * RFC 3986 5.2.4 plus collapsing of empty segments; `..` above the root stays at the root.
 * Only '/' separates segments: a backslash is an ordinary file-name character on POSIX, so
 * `..\x` is a name, not a traversal.
 */
export function removeDotSegments (path: string): string {
  if (path.charCodeAt(0) === SLASH && path.indexOf('//') === -1 && path.indexOf('/.') === -1) {
    return path
  }
  const segments = path.split('/')
  const out: string[] = []
  for (const seg of segments) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') { out.pop(); continue }
    out.push(seg)
  }
  if (out.length === 0) return '/'
  const last = segments[segments.length - 1]
  const trailingSlash = last === '' || last === '.' || last === '..'
  return '/' + out.join('/') + (trailingSlash ? '/' : '')
}

/**
 * Segment-aware containment: `/files/x` and `/files` are inside `/files`, `/files-private` is
 * not. Relative paths are never inside anything (no cwd to resolve them against here).
 */
export function isPathInside (root: string, candidate: string): boolean {
  if (root.charCodeAt(0) !== SLASH || candidate.charCodeAt(0) !== SLASH) return false
  let r = removeDotSegments(root)
  const c = removeDotSegments(candidate)
  if (r === '/') return true
  if (r.charCodeAt(r.length - 1) === SLASH) r = r.slice(0, -1)
  if (!c.startsWith(r)) return false
  return c.length === r.length || c.charCodeAt(r.length) === SLASH
}

/**
 * A decoded path as a URL path again, each segment percent-encoded: what @fastify/send takes (a
 * file name may hold `%`, `?` or `#`) and what a Location may say (a decoded `\`, space or
 * non-Latin-1 name would be read as another host, an invalid URI, or refused by node:http).
 */
export function encodePath (decoded: string): string {
  return decoded.split('/').map((segment) => encodeURIComponent(segment)).join('/')
}
