// REMOTE_USER and AUTH_TYPE (RFC 3875 4.1.11, 4.1.1): who the application's authentication
// (a Fastify auth plugin: @fastify/basic-auth, @fastify/jwt, @fastify/passport, ...) says
// the client is. lighttpd's mod_auth sets the two in its env list, after the request headers,
// user first; PHP applications read them as $_SERVER['REMOTE_USER'] / ['AUTH_TYPE'].
import { BadRequestError } from '../errors'
import { toByteString } from './byte-string'

export interface RemoteUser {
  /** the authenticated user name (text; sent as UTF-8) */
  readonly user: string
  /** the scheme that authenticated it: 'Basic', 'Digest', 'Bearer', ...; omitted when unknown */
  readonly authType?: string | undefined
}

const NONE: ReadonlyArray<readonly [string, string]> = []

export const REMOTE_USER_VARIABLES: ReadonlySet<string> = new Set(['REMOTE_USER', 'AUTH_TYPE'])

/**
 * The REMOTE_USER / AUTH_TYPE pairs for `remote`; none when there is no user. A user name
 * holding a control character (a JWT `sub` of `admin\nX`, a NUL that C code would cut at) is
 * a 400 rather than passed on. An authType that is not a token is not sent.
 */
export function remoteUserParams (remote: RemoteUser | undefined): ReadonlyArray<readonly [string, string]> {
  if (remote === undefined || remote.user === '') return NONE
  if (hasControl(remote.user)) throw new BadRequestError('the authenticated user name holds a control character')
  const params: Array<[string, string]> = [['REMOTE_USER', toByteString(remote.user)]]
  const authType = remote.authType
  if (authType !== undefined && isToken(authType)) params.push(['AUTH_TYPE', authType])
  return params
}

function hasControl (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

// RFC 9110 token: an auth-scheme is one
function isToken (text: string): boolean {
  if (text === '') return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    if (!alnum && "!#$%&'*+-.^_`|~".indexOf(text[i] as string) === -1) return false
  }
  return true
}
