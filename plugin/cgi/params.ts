// The CGI/1.1 environment lighttpd 1.4.69 sends (reference 2.4, 3.1, 3.2), in its order:
// some backends (lighttpd's own test responder among them) depend on the order.
import { originForm } from './url-path'
import { toByteString } from './byte-string'
import { isValidHost } from './host'
import { REMOTE_USER_VARIABLES, remoteUserParams } from './remote-user'
import type { RemoteUser } from './remote-user'
import { BadRequestError } from '../errors'

/**
 * rawTarget, query and header values are byte strings (one code unit per byte, as Node reads
 * them); path, serverSoftware and serverName are text. buildCgiParams sends both as the bytes
 * they stand for (byte-string.ts).
 */
export interface CgiRequestInfo {
  readonly method: string
  /** request-target as received, for REQUEST_URI */
  readonly rawTarget: string
  /** normalized, decoded path (uri.path before any split) */
  readonly path: string
  readonly query: string
  /** '1.0' | '1.1' | '2.0' */
  readonly httpVersion: string
  /** in arrival order, names as received; repeats possible */
  readonly headers: readonly (readonly [string, string])[]
  /** the body length to announce; undefined for an authorizer (no CONTENT_LENGTH) */
  readonly contentLength: number | undefined
  readonly remoteAddress: string
  readonly remotePort: number
  readonly serverAddress: string
  readonly serverPort: number
  readonly https: boolean
  readonly serverSoftware: string
  /** configured name; otherwise derived from Host */
  readonly serverName?: string
}

export interface ScriptLocation {
  readonly scriptName: string
  readonly pathInfo: string
  readonly scriptFilename: string
  readonly documentRoot: string
  readonly pathTranslated?: string
}

export interface ScriptLocationInput {
  /** uri.path after the PATH_INFO split */
  readonly scriptName: string
  readonly pathInfo: string
  /** the plugin's document root (lighttpd server.document-root / physical.basedir) */
  readonly documentRoot: string
  /** the host's `docroot` option; '' counts as unset, as in lighttpd */
  readonly docroot?: string | undefined
  readonly brokenScriptfilename: boolean
}

export interface CgiParamsOptions {
  readonly role: 'responder' | 'authorizer'
  /** lighttpd strip-request-uri (a trailing `/` is ignored) */
  readonly stripRequestUri?: string | undefined
  /** who the application's authentication says the client is: REMOTE_USER, AUTH_TYPE */
  readonly remoteUser?: RemoteUser | undefined
  /** env list, sent last: authorizer Variable-* results, application extras; values are text */
  readonly extraVariables?: readonly (readonly [string, string])[] | undefined
  /** REDIRECT_STATUS; '200' unless an error handler runs */
  readonly redirectStatus?: string | undefined
  /** REDIRECT_URI: lighttpd sends it only when normalization or a rewrite changed the target */
  readonly redirectUri?: string | undefined
}

/**
 * lighttpd's path join: exactly one `/` between the parts, and a `/` appended when `b` is
 * empty — which is why broken-scriptfilename without PATH_INFO yields `.../index.php/`.
 */
export function joinPath (a: string, b: string): string {
  const aSlash = a.charCodeAt(a.length - 1) === 0x2f
  if (b === '') return aSlash ? a : a + '/'
  const bSlash = b.charCodeAt(0) === 0x2f
  if (aSlash && bSlash) return a + b.slice(1)
  return aSlash || bSlash ? a + b : a + '/' + b
}

export function resolveScriptLocation (input: ScriptLocationInput): ScriptLocation {
  const { scriptName, pathInfo, documentRoot, brokenScriptfilename } = input
  const docroot = input.docroot === '' ? undefined : input.docroot
  const base = docroot ?? documentRoot
  let scriptFilename: string
  if (docroot !== undefined) {
    // lighttpd ignores broken-scriptfilename once docroot is set
    scriptFilename = joinPath(docroot, scriptName)
  } else {
    const physicalPath = joinPath(documentRoot, scriptName)
    scriptFilename = brokenScriptfilename ? joinPath(physicalPath, pathInfo) : physicalPath
  }
  const location: ScriptLocation = { scriptName, pathInfo, scriptFilename, documentRoot: base }
  return pathInfo === '' ? location : { ...location, pathTranslated: joinPath(base, pathInfo) }
}

/** CGI encoding of a name: ASCII letters upper-cased, digits kept, anything else `_`. */
export function cgiVariableName (name: string): string {
  let out = ''
  let from = 0
  // copy runs of valid characters in one slice: env names are usually upper-case already
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) continue
    out += name.slice(from, i)
    out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 0x20) : '_'
    from = i + 1
  }
  return from === 0 ? name : out + name.slice(from)
}

/**
 * Every name buildCgiParams sets itself before the request headers, plus CONTENT_TYPE (from the
 * Content-Type header): extra variables (an authorizer's Variable-* headers) must not override
 * them. HTTP_* names are the request's headers and are refused as well (isGatewayVariable).
 */
export const GATEWAY_VARIABLES: ReadonlySet<string> = new Set([
  'CONTENT_LENGTH', 'CONTENT_TYPE', 'QUERY_STRING', 'REQUEST_URI', 'REDIRECT_URI', 'REDIRECT_STATUS',
  'SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED', 'SCRIPT_FILENAME', 'DOCUMENT_ROOT',
  'REQUEST_METHOD', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE', 'REQUEST_SCHEME',
  'HTTPS', 'SERVER_PORT', 'SERVER_ADDR', 'SERVER_NAME', 'REMOTE_ADDR', 'REMOTE_PORT'
])

/** A CGI name (already encoded) that the gateway sets itself, or a request header's (HTTP_*). */
export function isGatewayVariable (cgiName: string): boolean {
  return GATEWAY_VARIABLES.has(cgiName) || cgiName.startsWith('HTTP_')
}

// How one request header name is sent; null where it never is.
interface HeaderRule {
  readonly cgiName: string
  /** the header name lower-cased: two different ones under one cgiName are a conflict */
  readonly lower: string
  /** joins repeats; undefined for Host, which is never joined */
  readonly separator: string | undefined
  /** a well-known header this spelling stands in for (`X_Forwarded_For`), as the application reads it */
  readonly imitates?: string
}

/**
 * Request headers whose CGI names applications and front proxies rely on (lighttpd 1.4.83
 * knows these names too). A client spelling one with `_` or another separator (`X_Forwarded_For`)
 * would plant HTTP_X_FORWARDED_FOR past a proxy that sets or strips `X-Forwarded-For`.
 */
const WELL_KNOWN_HEADERS: ReadonlySet<string> = new Set([
  'accept', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'alt-svc',
  'alt-used', 'authorization', 'cache-control', 'connection', 'content-encoding',
  'content-length', 'content-location', 'content-range', 'content-security-policy',
  'content-type', 'cookie', 'date', 'dnt', 'etag', 'expect', 'expires', 'forwarded', 'host',
  'http2-settings', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'incremental', 'last-modified', 'link', 'location', 'onion-location',
  'p3p', 'pragma', 'priority', 'range', 'referer', 'referrer-policy', 'server', 'set-cookie',
  'status', 'strict-transport-security', 'te', 'transfer-encoding', 'upgrade',
  'upgrade-insecure-requests', 'user-agent', 'vary', 'www-authenticate', 'x-content-type-options',
  'x-forwarded-for', 'x-forwarded-proto', 'x-frame-options', 'x-xss-protection'
])

const NAME_CACHE_LIMIT = 256
// Header names repeat across requests, so the conversion is cached; the bound keeps a client
// that invents names from growing it, and clearing is cheaper than LRU bookkeeping.
const ruleCache = new Map<string, HeaderRule | null>()

function headerRule (header: string): HeaderRule | null {
  const cached = ruleCache.get(header)
  if (cached !== undefined) return cached
  const rule = computeRule(header)
  if (ruleCache.size >= NAME_CACHE_LIMIT) ruleCache.clear()
  ruleCache.set(header, rule)
  return rule
}

function computeRule (header: string): HeaderRule | null {
  // HTTP/2 has no Host header: its :authority is the Host (lighttpd sends it as HTTP_HOST,
  // and PHP applications build their URLs from it). Other pseudo-headers are not headers.
  if (header === ':authority') return { cgiName: 'HTTP_HOST', lower: header, separator: undefined }
  if (header === '' || header.charCodeAt(0) === 0x3a) return null
  const lower = header.toLowerCase()
  // one Host only: never joined into `a, b` (a repeated Host is a 400, and so is one that differs from :authority)
  if (lower === 'host') return { cgiName: 'HTTP_HOST', lower, separator: undefined }
  // Transfer-Encoding: the gateway re-frames the body; Expect: Node answers 100-continue;
  // Proxy: httpoxy, a client must never set the backend's HTTP_PROXY.
  if (lower === 'transfer-encoding' || lower === 'expect' || lower === 'proxy') return null
  if (lower === 'content-type') return { cgiName: 'CONTENT_TYPE', lower, separator: ', ' }
  const cgiName = 'HTTP_' + cgiVariableName(header)
  if (cgiName === 'HTTP_PROXY') return null
  const rule = { cgiName, lower, separator: lower === 'cookie' ? '; ' : ', ' }
  const dashed = lower.replace(/[^a-z0-9]/g, '-')
  return dashed !== lower && WELL_KNOWN_HEADERS.has(dashed) ? { ...rule, imitates: dashed } : rule
}

/** The CGI name a request header is sent under, or undefined if it is never sent. */
export function cgiHeaderName (header: string): string | undefined {
  return headerRule(header)?.cgiName
}

function serverNameFrom (headers: CgiRequestInfo['headers']): string {
  let authority: string | undefined
  for (const [name, value] of headers) {
    if (value === '') continue
    if (name.length === 4 && name.toLowerCase() === 'host') return hostWithoutPort(value.toLowerCase())
    if (authority === undefined && name === ':authority') authority = value
  }
  return authority === undefined ? '' : hostWithoutPort(authority.toLowerCase())
}

function hostWithoutPort (host: string): string {
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const end = host.indexOf(']')
    return end === -1 ? host : host.slice(0, end + 1)
  }
  const colon = host.indexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/** REQUEST_URI: the target as received (absolute-form reduced), minus strip-request-uri. */
export function requestUri (rawTarget: string, stripRequestUri: string | undefined): string {
  const target = originForm(rawTarget)
  if (stripRequestUri === undefined) return target
  const strip = stripRequestUri.charCodeAt(stripRequestUri.length - 1) === 0x2f
    ? stripRequestUri.slice(0, -1)
    : stripRequestUri
  // only a whole leading segment run: `/app1` strips `/app1/x`, never `/app10/x` nor `/app1?x`
  if (strip !== '' && target.charCodeAt(strip.length) === 0x2f && target.startsWith(strip)) {
    return target.slice(strip.length)
  }
  return target
}

export function buildCgiParams (req: CgiRequestInfo, loc: ScriptLocation, opts: CgiParamsOptions): Array<[string, string]> {
  const responder = opts.role === 'responder'
  const params: Array<[string, string]> = []
  // an authorizer never sees the body, so it is told nothing about it
  if (responder) params.push(['CONTENT_LENGTH', String(req.contentLength ?? 0)])
  params.push(['QUERY_STRING', req.query])
  params.push(['REQUEST_URI', requestUri(req.rawTarget, opts.stripRequestUri)])
  if (opts.redirectUri !== undefined) params.push(['REDIRECT_URI', opts.redirectUri])
  params.push(['REDIRECT_STATUS', opts.redirectStatus ?? '200'])
  if (responder) {
    params.push(['SCRIPT_NAME', toByteString(loc.scriptName)])
    if (loc.pathInfo !== '') {
      params.push(['PATH_INFO', toByteString(loc.pathInfo)])
      if (loc.pathTranslated !== undefined) params.push(['PATH_TRANSLATED', toByteString(loc.pathTranslated)])
    }
  }
  params.push(['SCRIPT_FILENAME', toByteString(loc.scriptFilename)])
  params.push(['DOCUMENT_ROOT', toByteString(loc.documentRoot)])
  params.push(['REQUEST_METHOD', req.method])
  params.push(['SERVER_PROTOCOL', 'HTTP/' + req.httpVersion])
  params.push(['SERVER_SOFTWARE', toByteString(req.serverSoftware)])
  params.push(['GATEWAY_INTERFACE', 'CGI/1.1'])
  params.push(['REQUEST_SCHEME', req.https ? 'https' : 'http'])
  if (req.https) params.push(['HTTPS', 'on'])
  params.push(['SERVER_PORT', String(req.serverPort)])
  params.push(['SERVER_ADDR', req.serverAddress])
  const serverName = req.serverName === undefined || req.serverName === '' ? serverNameFrom(req.headers) : toByteString(req.serverName)
  params.push(['SERVER_NAME', serverName])
  params.push(['REMOTE_ADDR', req.remoteAddress])
  params.push(['REMOTE_PORT', String(req.remotePort)])
  appendHeaders(params, req.headers)
  const authenticated = remoteUserParams(opts.remoteUser)
  for (const [name, value] of authenticated) params.push([name, value])
  if (opts.extraVariables !== undefined) {
    for (const [name, value] of opts.extraVariables) {
      // encoded as lighttpd does for its env list: an authorizer cannot smuggle `=` or NUL
      // into a name, and HTTP_PROXY stays unset whoever tries to set it (httpoxy)
      const cgiName = cgiVariableName(name)
      if (cgiName === '' || cgiName === 'HTTP_PROXY') continue
      // the authenticated identity is not for an extra variable to change
      if (authenticated.length > 0 && REMOTE_USER_VARIABLES.has(cgiName)) continue
      params.push([cgiName, toByteString(value)])
    }
  }
  return params
}

function appendHeaders (params: Array<[string, string]>, headers: CgiRequestInfo['headers']): void {
  // Merging by CGI name rather than by header name also catches spellings that collide
  // (`X_Under` / `X-Under`): those are a 400, as in lighttpd 1.4.83, because joining them
  // would let a client add to a variable a front proxy controls. A request has a handful of
  // headers: a scan of those already added beats a Map per request, and a Map takes over
  // only for requests with many.
  const first = params.length
  const owners: string[] = []
  let hosts = 0
  let seen: Map<string, number> | undefined
  if (headers.length > 24) seen = new Map()
  for (const [header, value] of headers) {
    const rule = headerRule(header)
    if (rule === null) continue
    // which of two Hosts names the site is anyone's guess (a front proxy may take the other);
    // an empty one counts too: Node and the router keep `Host:`, the backend would get the next
    if (rule.lower === 'host' && ++hosts > 1) throw new BadRequestError('more than one Host header')
    if (value === '') continue
    if (rule.imitates !== undefined) throw new BadRequestError(`request header ${quoteName(header)} would pass for ${rule.imitates}`)
    const name = rule.cgiName
    if (name === 'HTTP_HOST' && !isValidHost(value)) throw new BadRequestError(`${header === ':authority' ? ':authority' : 'Host'} is not a valid host[:port]`)
    let at = -1
    if (seen !== undefined) at = seen.get(name) ?? -1
    else {
      for (let i = first; i < params.length; i++) {
        if ((params[i] as [string, string])[0] === name) {
          at = i
          break
        }
      }
    }
    if (at === -1) {
      seen?.set(name, params.length)
      params.push([name, value])
      owners.push(header)
      continue
    }
    const owner = owners[at - first] as string
    if (owner !== header && owner.toLowerCase() !== rule.lower) {
      // HTTP/2's :authority beside a Host: the router takes the Host, the backend would get
      // the :authority, so they must name the same site (RFC 9113 8.3.1: otherwise malformed)
      if (name === 'HTTP_HOST') {
        if ((params[at] as [string, string])[1] === value) continue
        throw new BadRequestError('the Host header differs from :authority')
      }
      throw new BadRequestError(`request headers ${quoteName(owner)} and ${quoteName(header)} both become ${name}`)
    }
    // the same header repeated (never Host, counted above): joined as HTTP allows
    const pair = params[at] as [string, string]
    pair[1] = pair[1] + (rule.separator ?? ', ') + value
  }
}

function quoteName (name: string): string {
  return JSON.stringify(name.length > 64 ? name.slice(0, 64) + '...' : name)
}
