// RFC 3875 6.2.2 local redirects. A responder's `Location: /path` without a Status is served
// as if the client had asked for /path, so it must pass every check such a request passes:
// the authorizers, the application's hooks (auth, rate limits), the route constraints. It is
// therefore not served inside the gateway but dispatched as a fresh request through Fastify's
// router with fastify.inject(): GET (HEAD stays HEAD), no body, the client's headers without
// the body's (Content-Length, Content-Type, Transfer-Encoding, Expect), the client's address.
// The response streams back (payloadAsStream), with the client's backpressure.
//
// The injected request is linked to the client's request by a one-time random token in a
// header, so that (a) the hop count survives the trip and (b) the CGI variables that describe
// the connection (REMOTE_ADDR/PORT, SERVER_ADDR/PORT, HTTPS, SERVER_PROTOCOL) and the header
// bytes come from the client's request, not from the injected stand-in. Only REQUEST_METHOD,
// REQUEST_URI, the script variables, QUERY_STRING and the body variables change. A client that
// sends the header itself gains nothing: a token that is not pending links nothing.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CgiRequestInfo } from '../cgi/params'
import { ClientAbortedError } from '../errors'
import { buildRequestInfo } from './request-info'
import type { TargetOverride } from './request-info'

/** Hops after the client's request; the next one is a 502 (lighttpd: 5 as well). */
export const MAX_LOCAL_REDIRECTS = 5

const TOKEN_HEADER = 'x-fastcgi-local-redirect'

// the body went with the first request; connection-level headers belong to the client's connection
const NOT_FORWARDED = new Set(['content-length', 'content-type', 'transfer-encoding', 'expect', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection', TOKEN_HEADER])
// set by Node for the injected response's own framing, not by whoever answered
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date'])

interface Hop {
  /** local redirects so far, counting this one */
  readonly hops: number
  /** the request the client sent: its connection and header bytes describe every hop */
  readonly origin: FastifyRequest
}

// Shared by every registration: a hop may land on another registration's route (another
// prefix or host), and its count and origin must go with it. Kept per registration, two
// backends that redirect to each other across registrations restarted the count at every hop
// and looped for good.
const pending = new Map<string, Hop>()
const linked = new WeakMap<FastifyRequest, Hop>()

export class LocalRedirects {

  constructor (private readonly fastify: FastifyInstance) {}

  /** Local redirects that led to this request (0 for a client's request). */
  hopsOf (request: FastifyRequest): number {
    return this.hopOf(request)?.hops ?? 0
  }

  /** The client's request a hop was injected for; undefined for a client's request. */
  originOf (request: FastifyRequest): FastifyRequest | undefined {
    return this.hopOf(request)?.origin
  }

  /**
   * The CGI view of a request: for an injected hop, the client's connection and headers with
   * the hop's target and without the body's headers.
   */
  requestInfo (request: FastifyRequest, target: TargetOverride, contentLength: number | undefined, serverSoftware: string, serverName: string | undefined): CgiRequestInfo {
    const hop = this.hopOf(request)
    if (hop === undefined) return buildRequestInfo(request, target, contentLength, serverSoftware, serverName)
    const info = buildRequestInfo(hop.origin, target, undefined, serverSoftware, serverName)
    return { ...info, headers: info.headers.filter(([name]) => !NOT_FORWARDED.has(name.toLowerCase())) }
  }

  /** Serves `location` to the client as Fastify would answer a GET for it. */
  async follow (request: FastifyRequest, reply: FastifyReply, location: string): Promise<FastifyReply> {
    // a client already gone (while a hook or the first backend had the request) closes the reply
    // no more: the hop's body would stream into a destroyed reply, its backend paused for good
    if (reply.raw.destroyed && !reply.raw.writableEnded) throw new ClientAbortedError()
    const hops = this.hopsOf(request) + 1
    const origin = this.hopOf(request)?.origin ?? request
    const token = randomBytes(16).toString('hex')
    pending.set(token, { hops, origin })
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(origin.headers)) {
      // HTTP/2 pseudo-headers are not headers; the :authority goes on as the Host below
      if (value !== undefined && !NOT_FORWARDED.has(name) && !name.startsWith(':')) headers[name] = value
    }
    // an HTTP/2 client may name the site in :authority alone: without it as the Host, the hop
    // would be routed as inject's default host, past the virtual host's authorizer
    const authority = origin.headers[':authority']
    if ((headers.host === undefined || headers.host === '') && typeof authority === 'string') headers.host = authority
    headers[TOKEN_HEADER] = token
    const abort = new AbortController()
    let innerResponse: NodeJS.EventEmitter | undefined
    const onClientGone = (): void => {
      if (reply.raw.writableFinished) return
      abort.abort()
      // the hop's own reply never closes by itself: its close cancels the backend request
      innerResponse?.emit('close')
    }
    reply.raw.once('close', onClientGone)
    request.log.debug({ location, hop: hops }, 'FastCGI local redirect dispatched through the router')
    let answer
    try {
      answer = await this.fastify.inject({
        method: request.method === 'HEAD' ? 'HEAD' : 'GET',
        url: location,
        headers,
        remoteAddress: origin.raw.socket?.remoteAddress ?? origin.ip,
        payloadAsStream: true,
        signal: abort.signal
      })
    } catch (err) {
      reply.raw.removeListener('close', onClientGone)
      throw err
    } finally {
      pending.delete(token)
    }
    innerResponse = answer.raw.res
    const out: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || NOT_RETURNED.has(name)) continue
      out[name] = typeof value === 'number' ? String(value) : value
    }
    reply.code(answer.statusCode).headers(out)
    return reply.send(answer.stream())
  }

  private hopOf (request: FastifyRequest): Hop | undefined {
    const known = linked.get(request)
    if (known !== undefined) return known
    const token = request.headers[TOKEN_HEADER]
    if (typeof token !== 'string') return undefined
    const hop = pending.get(token)
    if (hop === undefined) return undefined
    linked.set(request, hop)
    return hop
  }
}
