// An in-repo FastCGI server for the faults no real backend produces. Built on plugin/protocol.
// Each connection runs a script: either `onConnection(conn)` (full control, from the first
// byte), or the default loop that hands each complete request to `onRequest(req, conn)`.
// `faults.*` are the named behaviours; spread one into the options:
//   const fs = await startFaultServer(t, { ...faults.closeMidBody(), port: 0 })
import { EventEmitter, once } from 'node:events'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { renameSync } from 'node:fs'
import {
  RecordDecoder, RecordType, ProtocolStatus, encodeEndRequest, encodeNameValuePairs, encodeRecord,
  encodeStream, decodeNameValuePairs, parseBeginRequestBody, HEADER_LENGTH
} from '../../plugin/protocol'
import type { TeardownHost } from './tmp'
import { resolveListen } from './proc'
import type { BackendAddress, BackendOptions, ListenOptions } from './proc'

/** A request as the fault server received it. */
export interface FaultRequest {
  requestId: number
  role: number
  keepConn: boolean
  /** Params in the order received. */
  params: Array<[string, string]>
  /** Number of non-empty PARAMS records the params came in. */
  paramsRecords: number
  /** The whole STDIN (complete when the request was delivered, unless deliverOn: 'params'). */
  stdin: Buffer
  /** Resolves with the whole STDIN once the empty STDIN record arrived. */
  stdinComplete: Promise<Buffer>
  /** True once the client sent ABORT_REQUEST for it. */
  aborted: boolean
  /** Value of the first param with that name. */
  param (name: string): string | undefined
}

/** The script's handle on one connection. Writes never throw once the socket is gone. */
export interface FaultConnection {
  /** 0 for the first connection the server accepted, then 1, 2, ... */
  readonly index: number
  readonly socket: Socket
  /** Every record received on this connection. */
  readonly records: Array<{ type: number, requestId: number, content: Buffer }>
  /** True once the socket closed (either side). */
  readonly isClosed: boolean
  /** Next complete request on this connection, or null when the connection closes first or timeoutMs passes (default 30000). */
  nextRequest (timeoutMs?: number): Promise<FaultRequest | null>
  /** Raw bytes, as they are; resolves when flushed to the kernel. */
  write (bytes: Buffer | string): Promise<void>
  /** One record (content up to 65535 bytes, optional padding). */
  record (type: number, requestId: number, content?: Buffer | string, padding?: number): Promise<void>
  /** STDOUT records for the data (an empty string/buffer writes the empty end-of-stream record). */
  stdout (data: Buffer | string, requestId?: number): Promise<void>
  /** STDERR records, same rules. */
  stderr (data: Buffer | string, requestId?: number): Promise<void>
  /** END_REQUEST (appStatus 0, REQUEST_COMPLETE by default). */
  end (requestId?: number, appStatus?: number, protocolStatus?: number): Promise<void>
  /** The usual complete answer: STDOUT with the data, empty STDOUT, END_REQUEST. */
  respond (data: Buffer | string, requestId?: number): Promise<void>
  /** Writes `data` one byte per write, yielding to the event loop between bytes. */
  trickle (data: Buffer, delayMs?: number): Promise<void>
  /** Waits ms (default: until the connection closes; at most 120 s). Resolves early when the connection closes. */
  stall (ms?: number): Promise<void>
  /** Half-closes (FIN) after pending writes. */
  close (): Promise<void>
  /** Destroys the socket at once. */
  destroy (): void
}

export type RequestScript = (req: FaultRequest, conn: FaultConnection) => void | Promise<void>
export type ConnectionScript = (conn: FaultConnection) => void | Promise<void>

/** What a server does; faults.* build these. */
export interface FaultBehaviour {
  onConnection?: ConnectionScript
  onRequest?: RequestScript
  /** 'refuse': bind nothing (a stale socket file or a closed port: ECONNREFUSED). */
  refuse?: boolean
}

export interface FaultServerOptions extends ListenOptions, FaultBehaviour {
  /** Hand requests to onRequest when STDIN is complete (default) or as soon as the params are. */
  deliverOn?: 'stdin' | 'params'
  /** Answers to FCGI_GET_VALUES (only the names asked for). Default MAX_CONNS 100, MAX_REQS 100, MPXS_CONNS 0. */
  values?: Record<string, string>
  /**
   * As libfcgi: the unpadded FCGI_GET_VALUES probe of keepAlive 'auto' gets no answer, and an
   * FCGI_GET_VALUES on a connection that carries requests is handed to this instead of answered.
   */
  valuesOnConnection?: (conn: FaultConnection) => void | Promise<void>
}

/** A running fault server. Events: 'connection' (conn), 'request' (req, conn), 'abort' (req, conn), 'scriptError' (err). */
export interface FaultServer extends EventEmitter {
  address: BackendAddress
  /** Ready for the plugin's server config: `{ socket }` or `{ host, port }`. */
  options: BackendOptions
  /** Connections accepted so far. */
  readonly connectionCount: number
  /** Connections open now. */
  readonly openConnections: number
  /** Every request received, in order of arrival. */
  readonly requests: FaultRequest[]
  /** Errors thrown by scripts (also emitted as 'scriptError'). */
  readonly errors: Error[]
  /** Resolves when `n` connections have been accepted (or rejects after timeoutMs, default 10000). */
  waitForConnections (n: number, timeoutMs?: number): Promise<void>
  /** Resolves when `n` requests have been received (or rejects after timeoutMs, default 10000). */
  waitForRequests (n: number, timeoutMs?: number): Promise<void>
  /** Stops listening and destroys every open connection. */
  close (): Promise<void>
}

const STALL_CAP_MS = 120_000

/** Starts a fault server on a unix socket (default: in a temp dir) or 127.0.0.1 port; closed at t.teardown. */
export async function startFaultServer (t: TeardownHost, opts: FaultServerOptions = {}): Promise<FaultServer> {
  const listen = await resolveListen(t, opts, 'fault')
  const emitter = new EventEmitter() as FaultServer
  const sockets = new Set<Socket>()
  const requests: FaultRequest[] = []
  const errors: Error[] = []
  let connectionCount = 0
  const values = opts.values ?? { FCGI_MAX_CONNS: '100', FCGI_MAX_REQS: '100', FCGI_MPXS_CONNS: '0' }
  let server: Server | undefined

  if (opts.refuse === true) {
    if (listen.address.kind === 'unix') {
      // a socket file that nobody listens on: connect() gives ECONNREFUSED
      const tmp = `${listen.address.path}.tmp`
      const s = createServer()
      await new Promise<void>((resolve) => s.listen(tmp, resolve))
      renameSync(tmp, listen.address.path)
      await new Promise<void>((resolve) => s.close(() => { resolve() }))
    }
  } else {
    server = createServer((socket) => {
      // keepAlive 'auto' probes with FCGI_GET_VALUES on a connection of its own: answer it here,
      // so that scripts (and connection indexes) only ever see connections that carry requests
      socket.on('error', () => {})
      const acceptOn = (chunk: Buffer): void => {
        socket.pause()
        socket.unshift(chunk)
        accept(socket)
      }
      socket.once('data', (first: Buffer) => {
        const length = first.length >= 8 ? first.readUInt16BE(4) : -1
        if (first[1] === RecordType.GET_VALUES && first.readUInt16BE(2) === 0 && first.length === 8 + length + (first[6] as number)) {
          // libfcgi waits for padding that an unpadded record never brings
          if (opts.valuesOnConnection !== undefined && first[6] === 0) return
          const asked = decodeNameValuePairs(first.subarray(8, 8 + length)).map(([name]) => name)
          socket.write(encodeRecord(RecordType.GET_VALUES_RESULT, 0, encodeNameValuePairs(Object.entries(values).filter(([name]) => asked.includes(name)))))
          // a connection that goes on after its GET_VALUES is a real one
          socket.once('data', acceptOn)
          return
        }
        acceptOn(first)
      })
    })
    const accept = (socket: Socket): void => {
      const index = connectionCount++
      sockets.add(socket)
      socket.once('close', () => { sockets.delete(socket) })
      const conn = makeConnection(socket, index, {
        deliverOn: opts.deliverOn ?? 'stdin',
        values,
        valuesOnConnection: opts.valuesOnConnection,
        onRequest: (req) => { requests.push(req); emitter.emit('request', req, conn) },
        onAbort: (req) => { emitter.emit('abort', req, conn) }
      })
      emitter.emit('connection', conn)
      const fail = (err: unknown): void => {
        const error = err instanceof Error ? err : new Error(String(err))
        errors.push(error)
        if (emitter.listenerCount('scriptError') > 0) emitter.emit('scriptError', error)
        conn.destroy()
      }
      const run = async (): Promise<void> => {
        if (opts.onConnection !== undefined) { await opts.onConnection(conn); return }
        const onRequest = opts.onRequest ?? faults.ok().onRequest as RequestScript
        for (let i = 0; i < 10_000; i++) {
          const req = await conn.nextRequest(STALL_CAP_MS)
          if (req === null) return
          await onRequest(req, conn)
          if (conn.isClosed) return
          if (!req.keepConn) { await conn.close(); return }
        }
      }
      run().catch(fail)
      socket.resume()
    }
    const s = server
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      if (listen.address.kind === 'unix') s.listen(listen.address.path, resolve)
      else s.listen({ host: listen.address.host, port: listen.address.port, exclusive: true }, resolve)
    })
  }

  const waitFor = async (what: string, current: () => number, n: number, event: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (current() < n) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`fault server: ${current()} ${what}, expected ${n} within ${timeoutMs} ms`)
      const ac = new AbortController()
      const timer = setTimeout(() => { ac.abort() }, left)
      try { await once(emitter, event, { signal: ac.signal }) } catch {} finally { clearTimeout(timer) }
    }
  }

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      for (const socket of sockets) socket.destroy()
      if (server !== undefined) {
        const s = server
        await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
      }
    })()
    await closing
  }
  t.teardown(close)

  Object.defineProperties(emitter, {
    address: { value: listen.address, enumerable: true },
    options: { value: listen.options, enumerable: true },
    connectionCount: { get: () => connectionCount, enumerable: true },
    openConnections: { get: () => sockets.size, enumerable: true },
    requests: { value: requests, enumerable: true },
    errors: { value: errors, enumerable: true },
    waitForConnections: { value: async (n: number, timeoutMs = 10000) => { await waitFor('connections', () => connectionCount, n, 'connection', timeoutMs) } },
    waitForRequests: { value: async (n: number, timeoutMs = 10000) => { await waitFor('requests', () => requests.length, n, 'request', timeoutMs) } },
    close: { value: close }
  })
  return emitter
}

interface ConnectionHooks {
  deliverOn: 'stdin' | 'params'
  values: Record<string, string>
  valuesOnConnection: ((conn: FaultConnection) => void | Promise<void>) | undefined
  onRequest: (req: FaultRequest) => void
  onAbort: (req: FaultRequest) => void
}

function makeConnection (socket: Socket, index: number, hooks: ConnectionHooks): FaultConnection {
  const records: Array<{ type: number, requestId: number, content: Buffer }> = []
  const ready: FaultRequest[] = []
  const pending = new Map<number, { req: FaultRequest, params: Buffer[], stdin: Buffer[], paramsDone: boolean, finish: (b: Buffer) => void }>()
  const byId = new Map<number, FaultRequest>()
  let lastRequestId = 1
  let closed = false
  const closedEvents = new EventEmitter()
  socket.on('error', () => {})
  socket.once('close', () => { closed = true; closedEvents.emit('closed') })

  const deliver = (req: FaultRequest): void => {
    ready.push(req)
    hooks.onRequest(req)
    closedEvents.emit('ready')
  }

  const decoder = new RecordDecoder((type, requestId, view) => {
    const content = Buffer.from(view)
    records.push({ type, requestId, content })
    switch (type) {
      case RecordType.BEGIN_REQUEST: {
        const begin = parseBeginRequestBody(content)
        let finish: (b: Buffer) => void = () => {}
        const stdinComplete = new Promise<Buffer>((resolve) => { finish = resolve })
        const req: FaultRequest = {
          requestId,
          role: begin.role,
          keepConn: begin.keepConn,
          params: [],
          paramsRecords: 0,
          stdin: Buffer.alloc(0),
          stdinComplete,
          aborted: false,
          param (name) { return this.params.find(([n]) => n === name)?.[1] }
        }
        lastRequestId = requestId
        byId.set(requestId, req)
        pending.set(requestId, { req, params: [], stdin: [], paramsDone: false, finish })
        break
      }
      case RecordType.PARAMS: {
        const p = pending.get(requestId)
        if (p === undefined || p.paramsDone) break
        if (content.length > 0) { p.params.push(content); p.req.paramsRecords++; break }
        p.paramsDone = true
        p.req.params = decodeNameValuePairs(Buffer.concat(p.params))
        if (hooks.deliverOn === 'params') deliver(p.req)
        break
      }
      case RecordType.STDIN: {
        const p = pending.get(requestId)
        if (p === undefined) break
        if (content.length > 0) { p.stdin.push(content); break }
        p.req.stdin = Buffer.concat(p.stdin)
        pending.delete(requestId)
        p.finish(p.req.stdin)
        if (hooks.deliverOn === 'stdin') deliver(p.req)
        break
      }
      case RecordType.ABORT_REQUEST: {
        const req = byId.get(requestId)
        if (req !== undefined) { req.aborted = true; hooks.onAbort(req) }
        break
      }
      case RecordType.GET_VALUES: {
        if (hooks.valuesOnConnection !== undefined) {
          void Promise.resolve(hooks.valuesOnConnection(conn)).catch(() => { socket.destroy() })
          break
        }
        const asked = decodeNameValuePairs(content)
        const answer = asked.filter(([name]) => hooks.values[name] !== undefined).map(([name]) => [name, hooks.values[name] as string] as const)
        socket.write(encodeRecord(RecordType.GET_VALUES_RESULT, 0, encodeNameValuePairs(answer)))
        break
      }
      default:
        break
    }
  })
  socket.on('data', (chunk: Buffer) => {
    try { decoder.push(chunk) } catch { socket.destroy() }
  })

  const write = async (bytes: Buffer | string): Promise<void> => {
    if (closed || socket.destroyed || socket.writableEnded) return
    await new Promise<void>((resolve) => { socket.write(bytes, () => { resolve() }) })
  }
  const stream = async (type: number, data: Buffer | string, requestId: number): Promise<void> => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    await write(encodeStream(type as RecordType, requestId, buf))
  }
  const stall = async (ms = STALL_CAP_MS): Promise<void> => {
    if (closed) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(ms, STALL_CAP_MS))
      function done (): void { clearTimeout(timer); closedEvents.off('closed', done); resolve() }
      closedEvents.once('closed', done)
    })
  }

  const conn: FaultConnection = {
    index,
    socket,
    records,
    get isClosed () { return closed },
    async nextRequest (timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs
      while (ready.length === 0) {
        if (closed || Date.now() >= deadline) return null
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, deadline - Date.now())
          function done (): void { clearTimeout(timer); closedEvents.off('closed', done); closedEvents.off('ready', done); resolve() }
          closedEvents.once('closed', done)
          closedEvents.once('ready', done)
        })
      }
      return ready.shift() as FaultRequest
    },
    write,
    async record (type, requestId, content, padding = 0) {
      const buf = content === undefined ? undefined : typeof content === 'string' ? Buffer.from(content) : content
      await write(encodeRecord(type as RecordType, requestId, buf, padding))
    },
    async stdout (data, requestId = lastRequestId) { await stream(RecordType.STDOUT, data, requestId) },
    async stderr (data, requestId = lastRequestId) { await stream(RecordType.STDERR, data, requestId) },
    async end (requestId = lastRequestId, appStatus = 0, protocolStatus = ProtocolStatus.REQUEST_COMPLETE) {
      await write(encodeEndRequest(requestId, appStatus, protocolStatus))
    },
    async respond (data, requestId = lastRequestId) {
      const buf = typeof data === 'string' ? Buffer.from(data) : data
      const parts = buf.length > 0 ? [encodeStream(RecordType.STDOUT, requestId, buf)] : []
      parts.push(encodeRecord(RecordType.STDOUT, requestId), encodeEndRequest(requestId, 0, ProtocolStatus.REQUEST_COMPLETE))
      await write(Buffer.concat(parts))
    },
    async trickle (data, delayMs = 0) {
      for (let i = 0; i < data.length && !closed; i++) {
        await write(data.subarray(i, i + 1))
        await new Promise((resolve) => delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve))
      }
    },
    stall,
    async close () {
      if (closed || socket.writableEnded) return
      await new Promise<void>((resolve) => { socket.end(() => { resolve() }) })
    },
    destroy () { socket.destroy() }
  }
  return conn
}

const OK_RESPONSE = 'Content-Type: text/plain\r\n\r\nok\n'

/** A complete CGI response with a body of `body`. */
function cgi (body: string, headers = 'Content-Type: text/plain'): string {
  return `${headers}\r\n\r\n${body}`
}

/** The named behaviours. Each returns options to spread into startFaultServer's. */
export const faults = {
  /** A normal answer: `Content-Type: text/plain`, body "ok\n" (or `body`). */
  ok (body = 'ok\n'): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.respond(cgi(body), req.requestId) } }
  },
  /** Answers with the params as NAME=VALUE lines (what the client sent). */
  echoParams (): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.respond(cgi(req.params.map(([n, v]) => `${n}=${v}\n`).join('')), req.requestId) } }
  },
  /** Answers with the request body, its length in X-Stdin-Length. */
  echoStdin (): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        await conn.respond(Buffer.concat([Buffer.from(`Content-Type: application/octet-stream\r\nX-Stdin-Length: ${req.stdin.length}\r\n\r\n`), req.stdin]), req.requestId)
      }
    }
  },
  /** Nothing listens: ECONNREFUSED (closed port, or a stale unix socket file). */
  refuse (): FaultBehaviour { return { refuse: true } },
  /** Accepts the connection and closes it (FIN) before reading anything. */
  acceptAndClose (): FaultBehaviour { return { onConnection: async (conn) => { await conn.close() } } },
  /** Accepts the connection and destroys it at once (RST on TCP). */
  acceptAndDestroy (): FaultBehaviour { return { onConnection: (conn) => { conn.destroy() } } },
  /** Reads the request, then closes the connection without answering. */
  closeAfterRequest (): FaultBehaviour { return { onRequest: async (_req, conn) => { await conn.close() } } },
  /** Sends part of the header block, then closes. */
  closeMidHeaders (partial = 'Status: 200 OK\r\nContent-Type: text/pl'): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.stdout(partial, req.requestId); await conn.close() } }
  },
  /** Sends the headers and `bodyBytes` bytes of body (announcing `announced` in Content-Length when given), then closes without END_REQUEST. */
  closeMidBody (bodyBytes = 1000, announced?: number): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        const head = `Content-Type: application/octet-stream${announced !== undefined ? `\r\nContent-Length: ${announced}` : ''}\r\n\r\n`
        await conn.stdout(Buffer.concat([Buffer.from(head), Buffer.alloc(bodyBytes, 0x61)]), req.requestId)
        await conn.close()
      }
    }
  },
  /** Answers bytes that are not FastCGI at all (an HTTP response: version byte 'H'). */
  garbage (bytes: Buffer | string = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'): FaultBehaviour {
    return { onRequest: async (_req, conn) => { await conn.write(bytes); await conn.close() } }
  },
  /** A complete, well-formed answer for requestId + 1 (not the id the client used). */
  wrongRequestId (): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.respond(OK_RESPONSE, (req.requestId + 1) & 0xffff); await conn.stall(5000) } }
  },
  /** A complete answer, END_REQUEST, then more STDOUT for the same request. */
  stdoutAfterEnd (extra = 'after end\n'): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        await conn.respond(OK_RESPONSE, req.requestId)
        await conn.record(RecordType.STDOUT, req.requestId, extra)
      }
    }
  },
  /** END_REQUEST with no STDOUT at all. */
  endWithoutStdout (appStatus = 0): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.end(req.requestId, appStatus) } }
  },
  /** END_REQUEST with a protocol status: 'overloaded', 'cant-mpx' or 'unknown-role'. */
  endStatus (which: 'overloaded' | 'cant-mpx' | 'unknown-role'): FaultBehaviour {
    const status = which === 'overloaded' ? ProtocolStatus.OVERLOADED : which === 'cant-mpx' ? ProtocolStatus.CANT_MPX_CONN : ProtocolStatus.UNKNOWN_ROLE
    return { onRequest: async (req, conn) => { await conn.end(req.requestId, 0, status) } }
  },
  /** Reads the request and never answers (until the client closes, or 120 s). */
  stallBeforeHeaders (): FaultBehaviour { return { onRequest: async (_req, conn) => { await conn.stall() } } },
  /** Sends the headers and `bodyBytes` of body, then nothing more (until the client closes, or 120 s). */
  stallMidBody (bodyBytes = 100): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        await conn.stdout(Buffer.concat([Buffer.from('Content-Type: text/plain\r\n\r\n'), Buffer.alloc(bodyBytes, 0x62)]), req.requestId)
        await conn.stall()
      }
    }
  },
  /** A complete answer (with padded records) written one byte per write. */
  oneByteAtATime (response = cgi('one byte at a time\n')): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        const body = Buffer.from(response)
        const half = Math.floor(body.length / 2)
        const bytes = Buffer.concat([
          encodeRecord(RecordType.STDOUT, req.requestId, body.subarray(0, half), 3),
          encodeRecord(RecordType.STDERR, req.requestId, Buffer.from('a warning'), 7),
          encodeRecord(RecordType.STDOUT, req.requestId, body.subarray(half), 1),
          encodeRecord(RecordType.STDOUT, req.requestId),
          encodeEndRequest(req.requestId, 0, ProtocolStatus.REQUEST_COMPLETE)
        ])
        await conn.trickle(bytes)
      }
    }
  },
  /** A custom raw header block (give the exact text, e.g. 'Status: 404\nX: y\n\n') and body. */
  rawHeaders (block: string | Buffer, body: string | Buffer = ''): FaultBehaviour {
    return {
      onRequest: async (req, conn) => {
        await conn.respond(Buffer.concat([Buffer.from(block), Buffer.from(body)]), req.requestId)
      }
    }
  },
  /** STDERR text, then a normal answer. */
  stderrThenOk (message = 'something on stderr'): FaultBehaviour {
    return { onRequest: async (req, conn) => { await conn.stderr(message, req.requestId); await conn.respond(OK_RESPONSE, req.requestId) } }
  }
}

/** The size of a record with this much content on the wire (header + content, no padding). */
export function recordSize (contentLength: number): number {
  return HEADER_LENGTH + contentLength
}

/** The fault on the first connection's first request; every later request gets a normal answer. */
export function firstThenOk (fault: FaultBehaviour): FaultBehaviour {
  return {
    onConnection: async (conn) => {
      if (conn.index === 0 && fault.onConnection !== undefined) { await fault.onConnection(conn); return }
      for (let i = 0; i < 1000; i++) {
        const req = await conn.nextRequest(30_000)
        if (req === null) return
        if (conn.index === 0 && i === 0 && fault.onRequest !== undefined) await fault.onRequest(req, conn)
        else await conn.respond('Content-Type: text/plain\r\n\r\nok\n', req.requestId)
        if (conn.isClosed) return
        if (!req.keepConn) { await conn.close(); return }
      }
    }
  }
}