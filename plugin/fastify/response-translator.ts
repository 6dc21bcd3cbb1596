// From a backend's CGI response to the client's reply, for the responder (status, headers,
// X-Sendfile, framing of a whole or streamed body) and for an authorizer's denial (its whole,
// bounded body). One header filter for both: what never goes from a backend to a client.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastcgiResponse } from '../client/exchange'
import { checkTransferEncoding, decodeChunkedBody } from '../cgi/chunked-body'
import { BadResponseHeaderError, InvalidOptionError } from '../errors'
import { dechunkBody, limitToContentLength, takeContentLength } from './response-framing'
import { findSendfileDirective, replyWithSendfile } from './x-sendfile'
import type { HostConfig } from './options'
import type { RewriteHeaders } from './hooks'

// Hop-by-hop and gateway-private headers never go to the client (X-Sendfile and X-LIGHTTPD-*
// are consumed by the gateway even where it does not act on them, as lighttpd does).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'x-sendfile'])

export interface ClientHeaders {
  /** lowercased names; repeated headers as arrays, in order */
  readonly headers: Record<string, string | string[]>
  /** the backend's own Transfer-Encoding (joined), which the gateway takes off */
  readonly transferEncoding: string | undefined
}

/** The backend's headers that may reach the client; `alsoDrop` names more that may not. */
export function clientHeaders (pairs: ReadonlyArray<readonly [string, string]>, alsoDrop?: (lowerName: string) => boolean): ClientHeaders {
  const headers: Record<string, string | string[]> = {}
  let transferEncoding: string | undefined
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase()
    if (lower === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`
    // `__proto__` cannot be carried: in Fastify's header object it would set the prototype
    if (HOP_BY_HOP.has(lower) || lower === '__proto__' || lower.startsWith('x-lighttpd-') || alsoDrop?.(lower) === true) continue
    // own values only: `constructor` would otherwise find Object's and send it along
    const existing = Object.hasOwn(headers, lower) ? headers[lower] : undefined
    if (existing === undefined) headers[lower] = value
    else if (Array.isArray(existing)) existing.push(value)
    else headers[lower] = [existing, value]
  }
  return { headers, transferEncoding }
}

/**
 * The application's rewriteHeaders over the headers that go out. The framing stays the
 * gateway's: Content-Length and Transfer-Encoding are what the gateway decided, whatever the
 * hook returns for them.
 */
export function rewritten (rewrite: RewriteHeaders | undefined, request: FastifyRequest, headers: Record<string, string | string[]>): Record<string, string | string[]> {
  if (rewrite === undefined) return headers
  const length = headers['content-length']
  const result: unknown = rewrite({ ...headers }, request)
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new InvalidOptionError('rewriteHeaders must return an object of headers')
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(result)) {
    const lower = name.toLowerCase()
    if (lower === 'content-length' || lower === 'transfer-encoding' || value === undefined) continue
    if (typeof value !== 'string' && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) throw new InvalidOptionError(`rewriteHeaders returned ${JSON.stringify(name)} as neither a string nor an array of strings`)
    out[lower] = value
  }
  if (length !== undefined) out['content-length'] = length
  return out
}

/** Lets the rest of a body go: a streamed one is drained, so its backend connection is freed. */
export function discardBody (response: FastcgiResponse): void {
  if (response.complete === undefined) response.body.resume()
}

function backendLabel (host: HostConfig): string {
  return host.name === '' ? host.mappingKey : host.name
}

/** A responder's answer as the client's reply. */
export function sendResponse (request: FastifyRequest, reply: FastifyReply, response: FastcgiResponse, host: HostConfig, rewrite?: RewriteHeaders): FastifyReply | Promise<FastifyReply> {
  const status = response.status
  if (status > 599) {
    // Node serves 600-999, but Fastify refuses them; a backend should not depend on them.
    // The backend's headers and body must not go out with the 502: drain and answer an error.
    request.log.warn({ status }, 'FastCGI backend sent a status above 599; answering 502')
    discardBody(response)
    throw new BadResponseHeaderError(`Status ${status} is above 599`)
  }
  const { headers: backendHeaders, transferEncoding } = clientHeaders(response.headers)
  if (host.xSendfile) {
    const directive = findSendfileDirective(response.headers)
    if (directive !== undefined) {
      let headers: Record<string, string | string[]>
      try {
        headers = rewritten(rewrite, request, backendHeaders)
      } catch (err) {
        discardBody(response)
        throw err
      }
      return replyWithSendfile(request, reply, { status, headers, body: response.body, docroots: host.xSendfileDocroot }, directive)
    }
  }
  const noBody = request.method === 'HEAD' || status === 204 || status === 304 || status < 200
  let announced: number | undefined
  let complete = response.complete
  let headers = backendHeaders
  try {
    if (transferEncoding !== undefined) {
      // the backend framed its body itself: the framing comes off, and any length with it
      checkTransferEncoding(transferEncoding)
      delete headers['content-length']
      if (complete !== undefined && !noBody) complete = decodeChunkedBody(complete)
    }
    announced = takeContentLength(headers)
    headers = rewritten(rewrite, request, headers)
  } catch (err) {
    discardBody(response)
    throw err
  }
  reply.code(status)
  reply.headers(headers)
  if (noBody) {
    // no body goes out: drain the backend so its connection is freed
    discardBody(response)
    return reply.send()
  }
  // The whole body is here: one write with a Content-Length, no stream. A Buffer without a
  // Content-Type would get Fastify's application/octet-stream, which the backend did not say.
  if (complete !== undefined && (announced === undefined || announced === complete.length) && headers['content-type'] !== undefined) {
    return reply.send(complete)
  }
  const backend = backendLabel(host)
  if (transferEncoding !== undefined) return reply.send(dechunkBody(response.body, backend))
  if (announced !== undefined) return reply.send(limitToContentLength(response.body, announced, backend))
  return reply.send(response.body)
}

/** `Variable-NAME`: an authorizer's grant, for the gateway only (any case). */
export function isVariableHeader (name: string): boolean {
  return name.length > 9 && name.slice(0, 9).toLowerCase() === 'variable-'
}

/**
 * An authorizer's denial as the client's reply: its status, headers and whole body, never its
 * Variable-* headers; the length is the body's own (the backend's framing comes off).
 */
export function sendDenial (request: FastifyRequest, reply: FastifyReply, status: number, pairs: ReadonlyArray<readonly [string, string]>, body: Buffer, rewrite?: RewriteHeaders): FastifyReply {
  const { headers, transferEncoding } = clientHeaders(pairs, (lower) => lower === 'content-length' || isVariableHeader(lower))
  let denial = body
  if (transferEncoding !== undefined) {
    checkTransferEncoding(transferEncoding)
    denial = decodeChunkedBody(body)
  }
  reply.code(status).headers(rewritten(rewrite, request, headers))
  if (status === 204 || status === 304 || request.method === 'HEAD') return reply.send()
  return reply.send(denial)
}
