// The application's hooks into the gateway, as @fastify/http-proxy and @fastify/reply-from
// have them: route options for the plugin's routes, the backend's response headers before they
// go out, an observer of each backend response, per-request params, and who the client is
// (REMOTE_USER / AUTH_TYPE) as the application's Fastify auth plugins decided it.
import { finished } from 'node:stream'
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import type { FastcgiResponse } from '../client/exchange'
import { cgiVariableName, isGatewayVariable } from '../cgi/params'
import { REMOTE_USER_VARIABLES } from '../cgi/remote-user'
import type { RemoteUser } from '../cgi/remote-user'
import { InvalidParamsError } from '../errors'
import type { HostConfig } from './options'

export type { RemoteUser } from '../cgi/remote-user'

/** The backend's response headers as they would go out (lower-case names; repeats as arrays). */
export type ResponseHeaders = Record<string, string | string[]>

/** Rewrites the backend's response headers before they go to the client (responder and authorizer denials). */
export type RewriteHeaders = (headers: ResponseHeaders, request: FastifyRequest) => ResponseHeaders

/** What onBackendResponse is told about one backend response. */
export interface BackendResponseInfo {
  /** the backend's label (its name, or the mapping key for an unnamed one) */
  readonly backend: string
  /** the mapping key that chose it */
  readonly mapping: string
  readonly role: 'responder' | 'authorizer'
  /** the status the backend answered (before rewriting; X-Sendfile and redirects may change what the client gets) */
  readonly status: number
  readonly timings: {
    /** ms from handing the request to the pool (queueing included) to the backend's response head */
    readonly firstByte: number
    /** ms from the same start to the end of the backend's body */
    readonly total: number
  }
}

/** Called once per backend response, when its body has ended (or failed); for metrics and logs. */
export type OnBackendResponse = (request: FastifyRequest, reply: FastifyReply, info: BackendResponseInfo) => void

/** Who the client is, as the application's authentication decided; undefined: nobody. */
export type RemoteUserResolver = (request: FastifyRequest) => RemoteUser | undefined

/** Extra CGI variables for one request (a host's `params` option). */
export type ParamsFunction = (request: FastifyRequest) => Record<string, string> | undefined

/** The route options of @fastify/http-proxy that the plugin's routes take. */
export type RouteHookOptions = Pick<RouteShorthandOptions, 'onRequest' | 'preValidation' | 'preHandler' | 'config'>

/** The plugin options of this module, validated. */
export interface HookConfig {
  readonly routeOptions: RouteHookOptions
  readonly rewriteHeaders: RewriteHeaders | undefined
  readonly onBackendResponse: OnBackendResponse | undefined
  readonly remoteUser: RemoteUserResolver
}

const AUTH_SCHEMES: ReadonlyMap<string, string> = new Map([['basic', 'Basic'], ['bearer', 'Bearer'], ['digest', 'Digest']])

/**
 * The default remoteUser: `request.user` as the Fastify auth plugins leave it, never a header.
 * @fastify/jwt sets it to the token's payload (its `sub`, or a `username`), @fastify/passport to
 * the deserialized user (its `username`), @fastify/basic-auth leaves it to the validate callback
 * (a string or an object with `username`). AUTH_TYPE is the scheme of the Authorization header
 * (Basic, Bearer, Digest) only once a user was set from it; otherwise it is not sent.
 */
export function defaultRemoteUser (request: FastifyRequest): RemoteUser | undefined {
  const user: unknown = Reflect.get(request, 'user')
  const name = userName(user)
  if (name === undefined) return undefined
  const authorization = request.headers.authorization
  const scheme = typeof authorization === 'string' ? AUTH_SCHEMES.get(authorization.split(' ', 1)[0]?.toLowerCase() ?? '') : undefined
  return scheme === undefined ? { user: name } : { user: name, authType: scheme }
}

function userName (user: unknown): string | undefined {
  if (typeof user === 'string') return user === '' ? undefined : user
  if (typeof user !== 'object' || user === null) return undefined
  for (const field of ['username', 'sub']) {
    const value: unknown = Reflect.get(user, field)
    if (typeof value === 'string' && value !== '') return value
  }
  return undefined
}

/**
 * Extra variables from the application (`reply.fastcgi({ params })`, a host's `params`): each
 * name must be a CGI name as sent ([A-Z0-9_], nothing renamed) and not one the gateway sets
 * (the request line, the script's location, the server, the client, the request headers'
 * HTTP_*, HTTP_PROXY, REMOTE_USER and AUTH_TYPE): an InvalidParamsError (500) says which.
 */
export function checkExtraParams (source: string, params: unknown): Array<[string, string]> {
  if (params === undefined) return []
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new InvalidParamsError(`${source} must be an object of strings`)
  const pairs: Array<[string, string]> = []
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') throw new InvalidParamsError(`${source}.${name} must be a string, got ${typeof value}`)
    if (name === '' || cgiVariableName(name) !== name) {
      throw new InvalidParamsError(`${source} name ${JSON.stringify(name.slice(0, 64))} is not a CGI variable name: expected upper-case letters, digits and _ (such as ${JSON.stringify(cgiVariableName(name) || 'APP_TENANT')})`)
    }
    if (isGatewayVariable(name) || name === 'HTTP_PROXY') {
      throw new InvalidParamsError(`${source}.${name} is set by the gateway${name.startsWith('HTTP_') ? ' from the request headers' : ''} and cannot be overridden; use another name (such as APP_${name})`)
    }
    if (REMOTE_USER_VARIABLES.has(name)) throw new InvalidParamsError(`${source}.${name} comes from the remoteUser option and cannot be set as a param`)
    pairs.push([name, value])
  }
  return pairs
}

/** A host's params for this request, checked; none when the host has no params function. */
export function hostParams (host: HostConfig, request: FastifyRequest): Array<[string, string]> {
  if (host.params === undefined) return []
  return checkExtraParams(`${host.optionPath}.params(request)`, host.params(request))
}

/** The timing of one backend exchange, reported to onBackendResponse when its body is over. */
export class ResponseTimer {
  private readonly started = performance.now()

  constructor (private readonly hook: OnBackendResponse | undefined) {}

  /** Call at the response head: reports once the body has ended (or failed). */
  observe (request: FastifyRequest, reply: FastifyReply, role: 'responder' | 'authorizer', host: HostConfig, response: FastcgiResponse): void {
    const hook = this.hook
    if (hook === undefined) return
    const firstByte = performance.now() - this.started
    const report = (): void => {
      const info: BackendResponseInfo = {
        backend: host.name === '' ? host.mappingKey : host.name,
        mapping: host.mappingKey,
        role,
        status: response.status,
        timings: { firstByte, total: performance.now() - this.started }
      }
      try {
        hook(request, reply, info)
      } catch (err) {
        request.log.error({ err }, 'fastify-fastcgi onBackendResponse hook threw')
      }
    }
    if (response.complete !== undefined) report()
    else finished(response.body, report)
  }
}
