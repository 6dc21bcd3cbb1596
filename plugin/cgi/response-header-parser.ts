// The CGI response header block (RFC 3875 6, lighttpd 5.1-5.2), parsed as STDOUT arrives.
// Complete lines are parsed at once and only the unfinished line is held, so feeding the
// block one byte at a time costs no more than feeding it whole.
import { BadResponseHeaderError, HeaderTooLargeError } from '../errors'

export interface CgiResponseHead {
  readonly status: number
  /** in order, repeats kept (several Set-Cookie); never Status */
  readonly headers: Array<[string, string]>
  readonly location: string | undefined
  /** RFC 3875 6.2.2: Location with a local path and no Status, to be served internally */
  readonly localRedirect: boolean
}

export interface ParsedHead {
  readonly head: CgiResponseHead
  readonly rest: Buffer
}

const EMPTY = Buffer.alloc(0)

// RFC 9110 token characters
const TOKEN = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1
for (let c = 48; c <= 57; c++) TOKEN[c] = 1
for (let c = 65; c <= 90; c++) TOKEN[c] = 1
for (let c = 97; c <= 122; c++) TOKEN[c] = 1

function isToken (name: string): boolean {
  if (name.length === 0) return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c > 127 || TOKEN[c] !== 1) return false
  }
  return true
}

function parseStatusCode (text: string): number | undefined {
  if (text.length < 3) return undefined
  const c0 = text.charCodeAt(0) - 48
  const c1 = text.charCodeAt(1) - 48
  const c2 = text.charCodeAt(2) - 48
  if (c0 < 1 || c0 > 9 || c1 < 0 || c1 > 9 || c2 < 0 || c2 > 9) return undefined
  if (text.length > 3 && text[3] !== ' ' && text[3] !== '\t') return undefined
  return c0 * 100 + c1 * 10 + c2
}

export class CgiHeaderParser {
  private partial: Buffer[] = []
  private partialLength = 0
  private size = 0
  private lines = 0
  private status: number | undefined
  private headers: Array<[string, string]> = []
  private location: string | undefined
  private done = false

  constructor (private readonly limit: number) {}

  /** Returns the head once the block is complete, with the body bytes that followed it. */
  push (chunk: Buffer): ParsedHead | undefined {
    if (this.done) return { head: this.result(), rest: chunk }
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start)
      const end = newline === -1 ? chunk.length : newline + 1
      this.size += end - start
      if (this.size > this.limit) throw new HeaderTooLargeError(this.limit)
      if (newline === -1) {
        this.partial.push(chunk.subarray(start))
        this.partialLength += chunk.length - start
        return undefined
      }
      let line: Buffer = chunk.subarray(start, newline)
      if (this.partialLength > 0) {
        this.partial.push(line)
        line = Buffer.concat(this.partial, this.partialLength + line.length)
        this.partial = []
        this.partialLength = 0
      }
      start = end
      const text = line.toString('latin1', 0, line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length)
      if (text === '') {
        if (this.status !== undefined && this.status < 200 && this.status !== 101) {
          // an interim 1xx response: the real header block follows
          this.reset()
          continue
        }
        this.done = true
        return { head: this.result(), rest: start < chunk.length ? chunk.subarray(start) : EMPTY }
      }
      this.parseLine(text)
    }
    return undefined
  }

  private reset (): void {
    this.lines = 0
    this.status = undefined
    this.headers = []
    this.location = undefined
  }

  private result (): CgiResponseHead {
    const explicit = this.status !== undefined
    const location = this.location
    const status = this.status ?? (location !== undefined ? 302 : 200)
    const localRedirect = !explicit && location !== undefined && location.startsWith('/') && !location.startsWith('//')
    return { status, headers: this.headers, location, localRedirect }
  }

  private parseLine (text: string): void {
    const first = this.lines++ === 0
    const colon = text.indexOf(':')
    if (colon === -1) {
      if (!first) return
      if (text.startsWith('HTTP/') && text.length >= 12) {
        const code = parseStatusCode(text.slice(9))
        if (code === undefined) throw new BadResponseHeaderError(`invalid status line ${JSON.stringify(text.slice(0, 80))}`)
        this.status = code
        return
      }
      throw new BadResponseHeaderError(`first line is not a header: ${JSON.stringify(text.slice(0, 80))}`)
    }
    const name = text.slice(0, colon)
    if (!isToken(name)) throw new BadResponseHeaderError(`invalid header name ${JSON.stringify(name.slice(0, 80))}`)
    let from = colon + 1
    while (from < text.length && (text[from] === ' ' || text[from] === '\t')) from++
    let to = text.length
    while (to > from && (text[to - 1] === ' ' || text[to - 1] === '\t')) to--
    const value = text.slice(from, to)
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c === 13 || c === 0 || c === 10) throw new BadResponseHeaderError(`CR, LF or NUL in the value of ${name}`)
    }
    if (name.length === 6 && name.toLowerCase() === 'status') {
      const code = parseStatusCode(value)
      if (code === undefined) throw new BadResponseHeaderError(`invalid Status ${JSON.stringify(value.slice(0, 80))}`)
      this.status = code
      return
    }
    if (value === '') return
    if (name.length === 8 && name.toLowerCase() === 'location') this.location = value
    this.headers.push([name, value])
  }
}
