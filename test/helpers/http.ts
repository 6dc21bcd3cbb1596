// A tiny HTTP client over node:http for tests that need real sockets (not inject):
// whole responses, slow reading with pause/resume, and aborting mid-response.
import http from 'node:http'
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'

export interface RequestOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  /** Sent as is; a Readable is piped (chunked unless a content-length header is given). */
  body?: Buffer | string | Readable
  /** An http.Agent, or false (default: a fresh connection per request, closed afterwards). */
  agent?: Agent | false
  /** Reject when the whole exchange takes longer (default 60000 ms). */
  timeoutMs?: number
  /** Resolve with `aborted: true` and the partial body when the response breaks off, instead of rejecting. */
  allowAbort?: boolean
}

/** A complete (or, with allowAbort, broken-off) response. */
export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  /** Header names and values as received (Set-Cookie lines apart). */
  rawHeaders: string[]
  body: Buffer
  /** True when the response did not end normally (connection reset or closed mid-body). */
  aborted: boolean
}

/** Starts a request and resolves at the response head; the body is left to the caller. */
export async function requestStream (url: string, opts: RequestOptions = {}): Promise<{ req: ClientRequest, res: IncomingMessage }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false })
    const timer = setTimeout(() => { req.destroy(new Error(`no response head from ${url} within ${opts.timeoutMs ?? 60000} ms`)) }, opts.timeoutMs ?? 60000)
    req.once('response', (res) => { clearTimeout(timer); resolve({ req, res }) })
    req.once('error', (err) => { clearTimeout(timer); reject(err) })
    const body = opts.body
    if (body === undefined) req.end()
    else if (body instanceof Readable) {
      body.once('error', (err) => { req.destroy(err) })
      body.pipe(req)
    } else req.end(body)
  })
}

/** A whole request: resolves with status, headers and body as one Buffer. */
export async function request (url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const started = Date.now()
  const { res } = await requestStream(url, opts)
  const left = Math.max(1, (opts.timeoutMs ?? 60000) - (Date.now() - started))
  const chunks: Buffer[] = []
  const aborted = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => { res.destroy(new Error(`response body from ${url} not complete within ${opts.timeoutMs ?? 60000} ms`)) }, left)
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    res.once('end', () => { clearTimeout(timer); resolve(false) })
    res.once('error', (err) => {
      clearTimeout(timer)
      if (opts.allowAbort === true && !/not complete within/.test(err.message)) resolve(true)
      else reject(err)
    })
    res.once('close', () => { clearTimeout(timer); if (!res.complete) { if (opts.allowAbort === true) resolve(true); else reject(new Error(`response from ${url} closed before its end`)) } })
  })
  return { status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), aborted }
}

export interface SlowReadOptions {
  /** Bytes to take before each pause (default 64 KiB). */
  bytesPerStep?: number
  /** Pause between steps in ms (default 10). */
  pauseMs?: number
  /** Called with every chunk (for example a PatternChecker). Keep the body yourself if you need it. */
  onChunk?: (chunk: Buffer) => void
  /** Called after each step with the bytes read so far (to sample memory, say). */
  onStep?: (bytesSoFar: number) => void | Promise<void>
  /** Destroy the request after this many bytes (a client going away mid-response). */
  abortAfter?: number
  /** Give up (destroy, and report) after this long (default 600000 ms). */
  timeoutMs?: number
}

/** The outcome of reading a response body slowly. */
export interface SlowReadResult {
  bytes: number
  /** True when the body ended normally. */
  complete: boolean
  /** True when we destroyed it (abortAfter or timeout). */
  abortedByUs: boolean
  error?: Error
}

/** Reads a response body slowly with pause/resume (a slow client: the server sees backpressure); can abort mid-response. */
export async function readSlowly (req: ClientRequest, res: IncomingMessage, opts: SlowReadOptions = {}): Promise<SlowReadResult> {
  const step = opts.bytesPerStep ?? 65536
  const pauseMs = opts.pauseMs ?? 10
  let bytes = 0
  let sinceStep = 0
  let abortedByUs = false
  return await new Promise<SlowReadResult>((resolve) => {
    let settled = false
    const finish = (complete: boolean, error?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ bytes, complete, abortedByUs, ...(error !== undefined ? { error } : {}) })
    }
    const timer = setTimeout(() => { abortedByUs = true; req.destroy(); finish(false, new Error('readSlowly timed out')) }, opts.timeoutMs ?? 600000)
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      sinceStep += chunk.length
      opts.onChunk?.(chunk)
      if (opts.abortAfter !== undefined && bytes >= opts.abortAfter) {
        abortedByUs = true
        req.destroy()
        res.destroy()
        finish(false)
        return
      }
      if (sinceStep >= step) {
        sinceStep = 0
        res.pause()
        setTimeout(() => {
          Promise.resolve(opts.onStep?.(bytes)).finally(() => { if (!settled) res.resume() })
        }, pauseMs)
      }
    })
    res.once('end', () => { finish(true) })
    res.once('error', (err) => { finish(false, err) })
    res.once('close', () => { finish(res.complete) })
  })
}

/** Starts a request, waits for `bytes` of response body, then destroys the connection; resolves with the bytes received. */
export async function abortMidResponse (url: string, bytes: number, opts: RequestOptions = {}): Promise<{ status: number, received: number }> {
  const { req, res } = await requestStream(url, opts)
  const result = await readSlowly(req, res, { abortAfter: bytes, pauseMs: 0, bytesPerStep: Number.MAX_SAFE_INTEGER })
  return { status: res.statusCode ?? 0, received: result.bytes }
}
