// The CGI response header block (RFC 3875 6, lighttpd reference 5.1-5.2), parsed as STDOUT
// arrives. Each complete line is parsed as soon as its LF is seen and only the unfinished line
// is held, so no byte is scanned twice and feeding one byte at a time costs no more than
// feeding the block whole.
import { BadResponseHeaderError, HeaderTooLargeError, InvalidOptionError } from '../errors'

export interface CgiResponseHead {
  readonly status: number
  /** in order, repeats kept as separate pairs (several Set-Cookie); never Status */
  readonly headers: Array<[string, string]>
  /** first Location value, if any */
  readonly location: string | undefined
  /** no Status and a Location holding a local path (RFC 3875 6.2.2); lighttpd's mod_fastcgi
   *  does not act on this, the gateway decides whether to */
  readonly localRedirect: boolean
}

export interface ParsedHead {
  readonly head: CgiResponseHead
  /** body bytes that followed the header block in the same chunk (a view, not a copy) */
  readonly rest: Buffer
}

const LF = 0x0a
const CR = 0x0d

// RFC 9110 tchar
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1

function quote (text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '...' : text)
}

/** `NNN` followed by SP, TAB or the end; 100..999. */
function statusCode (text: string, at: number): number | undefined {
  const d0 = text.charCodeAt(at) - 0x30
  const d1 = text.charCodeAt(at + 1) - 0x30
  const d2 = text.charCodeAt(at + 2) - 0x30
  // NaN (past the end) fails every comparison, so a short text falls through to undefined
  if (!(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return undefined
  if (text.length > at + 3) {
    const next = text.charCodeAt(at + 3)
    if (next !== 0x20 && next !== 0x09) return undefined
  }
  return d0 * 100 + d1 * 10 + d2
}

export class CgiHeaderParser {
  readonly #limit: number
  /** latin1 text of the unfinished line: latin1 maps bytes 1:1, so pieces can be joined */
  #partial = ''
  /** bytes of the current block seen so far, terminator included */
  #blockBytes = 0
  #lines = 0
  #status: number | undefined
  #headers: Array<[string, string]> = []
  #location: string | undefined
  #head: CgiResponseHead | undefined

  constructor (limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError(`headerLimit must be a positive integer, got ${limit}`)
    this.#limit = limit
  }

  /** True once push() has returned the head. */
  get complete (): boolean {
    return this.#head !== undefined
  }

  /**
   * Feed STDOUT bytes. Returns the head once the block is complete, plus the body bytes that
   * followed in the same chunk. Throws BadResponseHeaderError / HeaderTooLargeError.
   * After completion every chunk is returned whole as `rest`.
   */
  push (chunk: Buffer): ParsedHead | undefined {
    if (this.#head !== undefined) return { head: this.#head, rest: chunk }
    let start = 0
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start)
      const end = lf === -1 ? chunk.length : lf + 1
      this.#blockBytes += end - start
      if (this.#blockBytes > this.#limit) throw new HeaderTooLargeError(this.#limit)
      if (lf === -1) {
        this.#partial += chunk.toString('latin1', start)
        return undefined
      }
      const lineEnd = lf > start && chunk[lf - 1] === CR ? lf - 1 : lf
      let line = chunk.toString('latin1', start, lineEnd)
      if (this.#partial !== '') {
        line = this.#partial + line
        this.#partial = ''
        // the CR of a CRLF split across chunks sits at the end of the held piece
        if (lineEnd === lf && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1)
      }
      start = end
      if (line !== '') {
        this.#parseLine(line)
        continue
      }
      const head = this.#finishBlock()
      if (head !== undefined) {
        this.#head = head
        return { head, rest: chunk.subarray(start) }
      }
    }
    return undefined
  }

  // Undefined for an interim 1xx block: it is dropped and the next block parsed from the
  // same stream. 101 is final (the backend switched protocols).
  #finishBlock (): CgiResponseHead | undefined {
    const explicit = this.#status
    const location = this.#location
    const headers = this.#headers
    this.#blockBytes = 0
    this.#lines = 0
    this.#status = undefined
    this.#headers = []
    this.#location = undefined
    if (explicit !== undefined && explicit < 200 && explicit !== 101) return undefined
    const status = explicit ?? (location !== undefined ? 302 : 200)
    const localRedirect = explicit === undefined && location !== undefined &&
      location.charCodeAt(0) === 0x2f && location.charCodeAt(1) !== 0x2f
    return { status, headers, location, localRedirect }
  }

  #parseLine (line: string): void {
    const first = this.#lines++ === 0
    let i = 0
    while (i < line.length) {
      const c = line.charCodeAt(i)
      if (c > 0x7f || TCHAR[c] !== 1) break
      i++
    }
    if (i === line.length || line.charCodeAt(i) !== 0x3a /* : */ || i === 0) {
      if (first && line.startsWith('HTTP/')) {
        this.#status = this.#nphStatus(line)
        return
      }
      // A folded line continues the previous header in HTTP/1.0 and is a new line to others
      // (RFC 9112 5.2 deprecates it); a line without a colon is no header. Dropping either
      // would let the client see a header block other than the one the backend meant.
      const c = line.charCodeAt(0)
      if (!first && (c === 0x20 || c === 0x09)) throw new BadResponseHeaderError(`folded (obs-fold) header line ${quote(line)}`)
      if (line.indexOf(':', i) === -1) {
        if (first) throw new BadResponseHeaderError(`first line is neither a header nor a status line: ${quote(line)}`)
        throw new BadResponseHeaderError(`header line without a colon: ${quote(line)}`)
      }
      // never forward a name Node or a client would parse differently (`X-Bad : 1`, CTLs)
      throw new BadResponseHeaderError(`invalid header name in ${quote(line)}`)
    }
    const name = line.slice(0, i)
    let v = i + 1
    while (v < line.length && (line.charCodeAt(v) === 0x20 || line.charCodeAt(v) === 0x09)) v++
    for (let k = v; k < line.length; k++) {
      const c = line.charCodeAt(k)
      // CR, NUL (response splitting) and other controls: Node would refuse them anyway
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
        throw new BadResponseHeaderError(`control character 0x${c.toString(16).padStart(2, '0')} in the value of ${quote(name)}`)
      }
    }
    if (v === line.length) return
    const value = line.slice(v)
    if (name.length === 6 && name.toLowerCase() === 'status') {
      const code = statusCode(value, 0)
      if (code === undefined) throw new BadResponseHeaderError(`invalid Status ${quote(value)}`)
      this.#status = code
      return
    }
    if (this.#location === undefined && name.length === 8 && name.toLowerCase() === 'location') this.#location = value
    this.#headers.push([name, value])
  }

  // `HTTP/x.y NNN ...`: x any character, y 0 or 1, as lighttpd accepts it
  #nphStatus (line: string): number {
    const y = line.charCodeAt(7)
    const code = line.length >= 12 && line.charCodeAt(6) === 0x2e && (y === 0x30 || y === 0x31) && line.charCodeAt(8) === 0x20
      ? statusCode(line, 9)
      : undefined
    if (code === undefined) throw new BadResponseHeaderError(`invalid status line ${quote(line)}`)
    return code
  }
}
