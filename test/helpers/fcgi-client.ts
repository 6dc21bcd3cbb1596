// A raw FastCGI client for tests, written with plugin/protocol: drives a backend directly,
// without the plugin (to prove a backend or the fault server works, or to compare).
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import {
  RecordDecoder, RecordType, Role, encodeBeginRequest, encodeGetValues, encodeNameValuePairs,
  encodeRecord, encodeStream, decodeNameValuePairs, parseEndRequestBody, MAX_CONTENT_LENGTH
} from '../../plugin/protocol'
import type { BackendAddress } from '../../plugin/client/address'

/** One record as received. */
export interface RawRecord { type: number, requestId: number, content: Buffer }

/** The outcome of one FastCGI request. */
export interface FcgiResponse {
  stdout: Buffer
  stderr: Buffer
  appStatus: number
  protocolStatus: number
  /** Every record received for this request id, in order. */
  records: RawRecord[]
}

export interface FcgiRequestOptions {
  params: Iterable<readonly [string, string]> | Record<string, string>
  stdin?: Buffer | string
  requestId?: number
  role?: number
  keepConn?: boolean
  /** Reject when no END_REQUEST arrives within this many ms (default 15000). */
  timeoutMs?: number
}

/** A connection to a FastCGI backend; requests go one after another (or interleaved, by request id). */
export class FcgiTestConnection {
  /** Every record received on this connection, in order. */
  readonly records: RawRecord[] = []
  /** Resolves when the backend closes the connection (or it errors). */
  readonly closed: Promise<void>
  private readonly decoder: RecordDecoder
  private readonly waiters = new Map<number, { resolve: (r: FcgiResponse) => void, reject: (e: Error) => void, records: RawRecord[] }>()
  private valueWaiter: ((pairs: Array<[string, string]>) => void) | undefined
  private isClosed = false

  private constructor (readonly socket: Socket) {
    this.decoder = new RecordDecoder((type, requestId, content) => { this.onRecord(type, requestId, Buffer.from(content)) })
    socket.on('data', (chunk: Buffer) => {
      try { this.decoder.push(chunk) } catch (err) { this.fail(err as Error); socket.destroy() }
    })
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        this.fail(new Error('connection closed before END_REQUEST'))
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  /** Connects to a unix socket or TCP address. */
  static async open (address: BackendAddress): Promise<FcgiTestConnection> {
    const socket = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new FcgiTestConnection(socket)
  }

  /** True once the backend (or we) closed the connection. */
  get isOpen (): boolean { return !this.isClosed }

  /** Writes raw bytes. */
  write (bytes: Buffer): void { this.socket.write(bytes) }

  /** Sends a whole request (BEGIN_REQUEST, PARAMS, STDIN) and resolves at its END_REQUEST. */
  async request (opts: FcgiRequestOptions): Promise<FcgiResponse> {
    const requestId = opts.requestId ?? 1
    const promise = this.expect(requestId, opts.timeoutMs ?? 15000)
    this.socket.write(encodeRequest(opts))
    return await promise
  }

  /** Resolves at END_REQUEST for requestId (for requests written by hand with write()). */
  async expect (requestId: number, timeoutMs = 15000): Promise<FcgiResponse> {
    if (this.isClosed) throw new Error('connection is closed')
    return await new Promise<FcgiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId)
        reject(new Error(`no END_REQUEST for request ${requestId} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(requestId, {
        resolve: (r) => { clearTimeout(timer); resolve(r) },
        reject: (e) => { clearTimeout(timer); reject(e) },
        records: []
      })
    })
  }

  /** FCGI_GET_VALUES: resolves with the GET_VALUES_RESULT pairs. */
  async getValues (names: readonly string[], timeoutMs = 5000): Promise<Array<[string, string]>> {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no GET_VALUES_RESULT')) }, timeoutMs)
      this.valueWaiter = (pairs) => { clearTimeout(timer); resolve(pairs) }
      this.socket.write(encodeGetValues(names))
    })
  }

  /** Ends our side and waits for the close (or destroys after 2 s). */
  async close (): Promise<void> {
    this.socket.end()
    const timer = setTimeout(() => { this.socket.destroy() }, 2000)
    await this.closed
    clearTimeout(timer)
  }

  private onRecord (type: number, requestId: number, content: Buffer): void {
    const record = { type, requestId, content }
    this.records.push(record)
    if (type === RecordType.GET_VALUES_RESULT) {
      const waiter = this.valueWaiter
      this.valueWaiter = undefined
      waiter?.(decodeNameValuePairs(content))
      return
    }
    const waiter = this.waiters.get(requestId)
    if (waiter === undefined) return
    waiter.records.push(record)
    if (type === RecordType.END_REQUEST) {
      this.waiters.delete(requestId)
      const end = parseEndRequestBody(content)
      const pick = (t: number): Buffer => Buffer.concat(waiter.records.filter((r) => r.type === t).map((r) => r.content))
      waiter.resolve({ stdout: pick(RecordType.STDOUT), stderr: pick(RecordType.STDERR), appStatus: end.appStatus, protocolStatus: end.protocolStatus, records: waiter.records })
    }
  }

  private fail (err: Error): void {
    for (const [id, waiter] of this.waiters) {
      this.waiters.delete(id)
      waiter.reject(Object.assign(err, { records: waiter.records }))
    }
  }
}

/** The bytes of a whole request: BEGIN_REQUEST, PARAMS (split into records as needed), empty PARAMS, STDIN, empty STDIN. */
export function encodeRequest (opts: FcgiRequestOptions): Buffer {
  const requestId = opts.requestId ?? 1
  const pairs = Symbol.iterator in Object(opts.params)
    ? [...(opts.params as Iterable<readonly [string, string]>)]
    : Object.entries(opts.params as Record<string, string>)
  const stdin = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : (opts.stdin ?? Buffer.alloc(0))
  const parts = [encodeBeginRequest(requestId, (opts.role ?? Role.RESPONDER) as Role, opts.keepConn ?? false)]
  const encoded = encodeNameValuePairs(pairs)
  for (let i = 0; i < encoded.length; i += MAX_CONTENT_LENGTH) parts.push(encodeRecord(RecordType.PARAMS, requestId, encoded.subarray(i, i + MAX_CONTENT_LENGTH)))
  parts.push(encodeRecord(RecordType.PARAMS, requestId))
  if (stdin.length > 0) parts.push(encodeStream(RecordType.STDIN, requestId, stdin))
  parts.push(encodeRecord(RecordType.STDIN, requestId))
  return Buffer.concat(parts)
}

/** One request on a fresh connection (keepConn false), closed afterwards. */
export async function fcgiRequest (address: BackendAddress, opts: FcgiRequestOptions): Promise<FcgiResponse> {
  const conn = await FcgiTestConnection.open(address)
  try {
    return await conn.request({ keepConn: false, ...opts })
  } finally {
    conn.socket.destroy()
  }
}

/** A CGI response split into status, header lines and body (LF or CRLF). Status from `Status:`, else 302 with Location, else 200. */
export function parseCgiResponse (stdout: Buffer): { status: number, headers: Array<[string, string]>, header (name: string): string | undefined, body: Buffer } {
  let end = -1
  let sep = 0
  for (let i = 0; i < stdout.length; i++) {
    if (stdout[i] === 10 && stdout[i + 1] === 10) { end = i; sep = 2; break }
    if (stdout[i] === 10 && stdout[i + 1] === 13 && stdout[i + 2] === 10) { end = i; sep = 3; break }
  }
  if (end < 0) throw new Error(`no end of CGI headers in ${JSON.stringify(stdout.subarray(0, 200).toString('latin1'))}`)
  const headers: Array<[string, string]> = []
  for (const line of stdout.subarray(0, end).toString('latin1').split('\n')) {
    const text = line.replace(/\r$/, '')
    if (text === '') continue
    const colon = text.indexOf(':')
    headers.push([text.slice(0, colon).trim(), text.slice(colon + 1).trim()])
  }
  const header = (name: string): string | undefined => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]
  const statusText = header('status')
  const status = statusText !== undefined ? parseInt(statusText, 10) : header('location') !== undefined ? 302 : 200
  return { status, headers, header, body: stdout.subarray(end + sep) }
}

/** Minimal params for running a script: GATEWAY_INTERFACE, SERVER_*, REQUEST_*, SCRIPT_*, DOCUMENT_ROOT, REDIRECT_STATUS (php-cgi's force-cgi-redirect). */
export function scriptParams (documentRoot: string, scriptName: string, extra: Record<string, string> = {}): Record<string, string> {
  const [path, query = ''] = scriptName.split('?', 2) as [string, string?]
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'fastify-fastcgi-tests',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: 'localhost',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    REQUEST_METHOD: 'GET',
    REQUEST_URI: scriptName,
    QUERY_STRING: query,
    SCRIPT_NAME: path,
    SCRIPT_FILENAME: documentRoot + path,
    DOCUMENT_ROOT: documentRoot,
    REDIRECT_STATUS: '200',
    ...extra
  }
}
