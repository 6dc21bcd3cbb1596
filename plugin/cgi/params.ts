// The CGI/1.1 environment lighttpd 1.4.69 sends (reference 2.4 and 3.1), in its order:
// some backends (and lighttpd's own test responder) depend on the order and on getting
// every param in the first PARAMS record.

export interface CgiRequestInfo {
  readonly method: string
  /** request-target as received, for REQUEST_URI */
  readonly rawTarget: string
  /** normalized, decoded path */
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
  readonly scriptName: string
  readonly pathInfo: string
  /** the plugin's documentRoot (lighttpd server.document-root) */
  readonly documentRoot: string
  /** the host's docroot option */
  readonly docroot?: string | undefined
  readonly brokenScriptfilename: boolean
}

export interface CgiParamsOptions {
  readonly role: 'responder' | 'authorizer'
  /** lighttpd strip-request-uri, trailing `/` already removed */
  readonly stripRequestUri?: string | undefined
  /** appended last: authorizer Variable-* results, application extras */
  readonly extraVariables?: readonly (readonly [string, string])[] | undefined
  readonly redirectStatus?: string
}

/** lighttpd's join: exactly one `/` between, and a `/` appended when `b` is empty. */
export function joinPath (a: string, b: string): string {
  if (b === '') return a.endsWith('/') ? a : `${a}/`
  const left = a.endsWith('/') ? a.slice(0, -1) : a
  return b.startsWith('/') ? left + b : `${left}/${b}`
}

export function resolveScriptLocation (input: ScriptLocationInput): ScriptLocation {
  const { scriptName, pathInfo, documentRoot, docroot, brokenScriptfilename } = input
  const base = docroot ?? documentRoot
  const physical = joinPath(base, scriptName)
  let scriptFilename = physical
  if (docroot === undefined && brokenScriptfilename) scriptFilename = joinPath(physical, pathInfo)
  const location: ScriptLocation = { scriptName, pathInfo, scriptFilename, documentRoot: base }
  return pathInfo === '' ? location : { ...location, pathTranslated: joinPath(base, pathInfo) }
}

const NAME_CACHE_LIMIT = 512
const nameCache = new Map<string, string>()

/** `x.dot+plus` -> `HTTP_X_DOT_PLUS`; Content-Type keeps its CGI name. */
export function cgiHeaderName (header: string): string {
  const cached = nameCache.get(header)
  if (cached !== undefined) return cached
  let name = 'HTTP_'
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i)
    if (c >= 97 && c <= 122) name += String.fromCharCode(c - 32)
    else if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57)) name += header[i]
    else name += '_'
  }
  if (name === 'HTTP_CONTENT_TYPE') name = 'CONTENT_TYPE'
  if (nameCache.size >= NAME_CACHE_LIMIT) nameCache.clear()
  nameCache.set(header, name)
  return name
}

// consumed by the gateway (the body is re-framed, 100-continue is Node's), or dangerous
const SKIPPED_HEADERS = new Set(['HTTP_TRANSFER_ENCODING', 'HTTP_EXPECT', 'HTTP_PROXY'])

function serverNameFrom (headers: CgiRequestInfo['headers']): string {
  for (const [name, value] of headers) {
    if (name.length === 4 && name.toLowerCase() === 'host') return hostWithoutPort(value.toLowerCase())
    if (name === ':authority') return hostWithoutPort(value.toLowerCase())
  }
  return ''
}

function hostWithoutPort (host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    return end === -1 ? host : host.slice(0, end + 1)
  }
  const colon = host.indexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

function requestUri (rawTarget: string, strip: string | undefined): string {
  let target = rawTarget
  if (!target.startsWith('/')) {
    const scheme = target.indexOf('://')
    if (scheme !== -1) {
      const slash = target.indexOf('/', scheme + 3)
      target = slash === -1 ? '/' : target.slice(slash)
    }
  }
  if (strip !== undefined && strip !== '' && target.startsWith(strip) && target.charCodeAt(strip.length) === 47) {
    return target.slice(strip.length)
  }
  return target
}

export function buildCgiParams (req: CgiRequestInfo, loc: ScriptLocation, opts: CgiParamsOptions): Array<[string, string]> {
  const params: Array<[string, string]> = []
  const responder = opts.role === 'responder'
  if (responder) params.push(['CONTENT_LENGTH', String(req.contentLength ?? 0)])
  params.push(['QUERY_STRING', req.query])
  params.push(['REQUEST_URI', requestUri(req.rawTarget, opts.stripRequestUri)])
  params.push(['REDIRECT_STATUS', opts.redirectStatus ?? '200'])
  if (responder) {
    params.push(['SCRIPT_NAME', loc.scriptName])
    if (loc.pathInfo !== '') {
      params.push(['PATH_INFO', loc.pathInfo])
      if (loc.pathTranslated !== undefined) params.push(['PATH_TRANSLATED', loc.pathTranslated])
    }
  }
  params.push(['SCRIPT_FILENAME', loc.scriptFilename])
  params.push(['DOCUMENT_ROOT', loc.documentRoot])
  params.push(['REQUEST_METHOD', req.method])
  params.push(['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`])
  params.push(['SERVER_SOFTWARE', req.serverSoftware])
  params.push(['GATEWAY_INTERFACE', 'CGI/1.1'])
  params.push(['REQUEST_SCHEME', req.https ? 'https' : 'http'])
  if (req.https) params.push(['HTTPS', 'on'])
  params.push(['SERVER_PORT', String(req.serverPort)])
  params.push(['SERVER_ADDR', req.serverAddress])
  params.push(['SERVER_NAME', req.serverName ?? serverNameFrom(req.headers)])
  params.push(['REMOTE_ADDR', req.remoteAddress])
  params.push(['REMOTE_PORT', String(req.remotePort)])
  appendHeaders(params, req.headers)
  if (opts.extraVariables !== undefined) {
    for (const [name, value] of opts.extraVariables) params.push([name, value])
  }
  return params
}

function appendHeaders (params: Array<[string, string]>, headers: CgiRequestInfo['headers']): void {
  // repeated names (and spellings that map to one CGI name) merge at the first position
  let seen: Map<string, number> | undefined
  for (const [header, value] of headers) {
    if (value === '' || header.charCodeAt(0) === 58 /* ':' HTTP/2 pseudo-header */) continue
    const name = cgiHeaderName(header)
    if (SKIPPED_HEADERS.has(name)) continue
    seen ??= new Map()
    const at = seen.get(name)
    if (at === undefined) {
      seen.set(name, params.length)
      params.push([name, value])
    } else {
      const pair = params[at] as [string, string]
      pair[1] += name === 'HTTP_COOKIE' ? `; ${value}` : `, ${value}`
    }
  }
}
