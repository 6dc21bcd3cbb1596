// Every error the plugin raises, in one place (as @fastify/reply-from does).
// The statusCode is what a client sees when the error reaches Fastify's error handler.
import createError from '@fastify/error'

/** The last constructor argument may carry the low-level error (as @fastify/error allows). */
export type Cause = { cause: unknown }

// Configuration (register() fails with these)
export const InvalidOptionError = createError<'FST_FASTCGI_INVALID_OPTION', 500, [string]>(
  'FST_FASTCGI_INVALID_OPTION', 'Invalid fastify-fastcgi option: %s', 500)
export const BackendStartError = createError<'FST_FASTCGI_BACKEND_START', 500, [string]>(
  'FST_FASTCGI_BACKEND_START', 'FastCGI backend failed to start: %s', 500)
export const DecoratorTakenError = createError<'FST_FASTCGI_DECORATOR_TAKEN', 500, []>(
  'FST_FASTCGI_DECORATOR_TAKEN', 'fastify.fastcgi is already decorated by something other than fastify-fastcgi: register fastify-fastcgi in a context without it (several fastify-fastcgi registrations share one fastify.fastcgi)', 500)
export const StartupCheckError = createError<'FST_FASTCGI_STARTUP_CHECK', 500, [string]>(
  'FST_FASTCGI_STARTUP_CHECK', 'FastCGI backends failed the start-up check (startupCheck: \'fail\'): %s', 500)

// Request-side problems
export const BadRequestPathError = createError<'FST_FASTCGI_BAD_PATH', 400, [string]>(
  'FST_FASTCGI_BAD_PATH', 'Bad request path: %s', 400)
// The application's own code passed params the gateway cannot send: a bug to fix, not the client's
export const InvalidParamsError = createError<'FST_FASTCGI_INVALID_PARAMS', 500, [string]>(
  'FST_FASTCGI_INVALID_PARAMS', 'Invalid FastCGI params: %s', 500)
export const BadRequestError = createError<'FST_FASTCGI_BAD_REQUEST', 400, [string]>(
  'FST_FASTCGI_BAD_REQUEST', 'Bad request: %s', 400)
export const ScriptNotFoundError = createError<'FST_FASTCGI_NOT_FOUND', 404, [string]>(
  'FST_FASTCGI_NOT_FOUND', 'Script not found: %s', 404)
export const BodyTooLargeError = createError<'FST_FASTCGI_BODY_TOO_LARGE', 413, [number]>(
  'FST_FASTCGI_BODY_TOO_LARGE', 'Request body is larger than bodyLimit (%d bytes)', 413)
export const ClientAbortedError = createError<'FST_FASTCGI_CLIENT_ABORTED', 499, []>(
  'FST_FASTCGI_CLIENT_ABORTED', 'Client closed the request before the backend answered', 499)
/** The client stopped sending its request body (clientBodyTimeout): its connection is closed after the 408. */
export const ClientBodyTimeoutError = createError<'FST_FASTCGI_CLIENT_BODY_TIMEOUT', 408, [number]>(
  'FST_FASTCGI_CLIENT_BODY_TIMEOUT', 'The client sent nothing of its request body for %d ms', 408)

// Backend availability (503) and timeouts (504)
export const NoBackendError = createError<'FST_FASTCGI_NO_BACKEND', 503, [string]>(
  'FST_FASTCGI_NO_BACKEND', 'No FastCGI backend available: %s', 503)
export const ConnectError = createError<'FST_FASTCGI_CONNECT', 503, [string, string, Cause?]>(
  'FST_FASTCGI_CONNECT', 'Cannot connect to FastCGI backend %s: %s', 503)
export const ConnectTimeoutError = createError<'FST_FASTCGI_CONNECT_TIMEOUT', 503, [string, number]>(
  'FST_FASTCGI_CONNECT_TIMEOUT', 'Connecting to FastCGI backend %s timed out after %d ms', 503)
export const OverloadedError = createError<'FST_FASTCGI_OVERLOADED', 503, [string, Cause?]>(
  'FST_FASTCGI_OVERLOADED', 'FastCGI backend %s is overloaded', 503)
export const QueueTimeoutError = createError<'FST_FASTCGI_QUEUE_TIMEOUT', 503, [string, number]>(
  'FST_FASTCGI_QUEUE_TIMEOUT', 'No free slot on FastCGI backend %s within %d ms', 503)
export const QueueFullError = createError<'FST_FASTCGI_QUEUE_FULL', 503, [string]>(
  'FST_FASTCGI_QUEUE_FULL', 'Wait queue for FastCGI backend %s is full', 503)
export const PoolClosedError = createError<'FST_FASTCGI_POOL_CLOSED', 503, []>(
  'FST_FASTCGI_POOL_CLOSED', 'The FastCGI pool is closing', 503)
export const ReadTimeoutError = createError<'FST_FASTCGI_READ_TIMEOUT', 504, [string, number]>(
  'FST_FASTCGI_READ_TIMEOUT', 'FastCGI backend %s sent nothing for %d ms', 504)
export const WriteTimeoutError = createError<'FST_FASTCGI_WRITE_TIMEOUT', 504, [string, number]>(
  'FST_FASTCGI_WRITE_TIMEOUT', 'FastCGI backend %s accepted no data for %d ms', 504)
/** The headers are out by then: the client's connection is cut, and the backend freed. */
export const SendTimeoutError = createError<'FST_FASTCGI_SEND_TIMEOUT', 504, [number, string]>(
  'FST_FASTCGI_SEND_TIMEOUT', 'The client took nothing of the response for %d ms; backend %s released', 504)
/** A response's temp file failed (disk full, I/O error): the bytes it held are lost, the client's connection is cut. */
export const ResponseSpillError = createError<'FST_FASTCGI_RESPONSE_SPILL', 500, [string, Cause?]>(
  'FST_FASTCGI_RESPONSE_SPILL', 'The temp file of a response its client was slow to read failed: %s', 500)

// Broken backend answers (502)
export const ProtocolError = createError<'FST_FASTCGI_PROTOCOL', 502, [string]>(
  'FST_FASTCGI_PROTOCOL', 'FastCGI protocol error: %s', 502)
export const BadResponseHeaderError = createError<'FST_FASTCGI_BAD_HEADER', 502, [string]>(
  'FST_FASTCGI_BAD_HEADER', 'Bad CGI response header from backend: %s', 502)
export const HeaderTooLargeError = createError<'FST_FASTCGI_HEADER_TOO_LARGE', 502, [number]>(
  'FST_FASTCGI_HEADER_TOO_LARGE', 'CGI response header block exceeds the %d byte limit (headerLimit)', 502)
export const BadChunkedBodyError = createError<'FST_FASTCGI_BAD_CHUNKED', 502, [string]>(
  'FST_FASTCGI_BAD_CHUNKED', 'Bad chunked body from backend: %s', 502)
export const PrematureCloseError = createError<'FST_FASTCGI_PREMATURE_CLOSE', 502, [string, Cause?]>(
  'FST_FASTCGI_PREMATURE_CLOSE', 'FastCGI backend closed the connection early: %s', 502)
export const StaleRecordError = createError<'FST_FASTCGI_STALE_RECORD', 502, [string]>(
  'FST_FASTCGI_STALE_RECORD', 'FastCGI backend sent bytes that belong to no request in progress: %s', 502)
export const RequestRejectedError = createError<'FST_FASTCGI_REQUEST_REJECTED', 502, [string]>(
  'FST_FASTCGI_REQUEST_REJECTED', 'FastCGI backend rejected the request: %s', 502)
export const TooManyRedirectsError = createError<'FST_FASTCGI_TOO_MANY_REDIRECTS', 502, [number]>(
  'FST_FASTCGI_TOO_MANY_REDIRECTS', 'More than %d local redirects', 502)

// Authorizer (lighttpd reference 6): any failure denies, never lets the request through
export const AuthorizerBodyTooLargeError = createError<'FST_FASTCGI_AUTHORIZER_BODY_TOO_LARGE', 502, [number]>(
  'FST_FASTCGI_AUTHORIZER_BODY_TOO_LARGE', 'FastCGI authorizer response body exceeds %d bytes', 502)
export const AuthorizerStatusError = createError<'FST_FASTCGI_AUTHORIZER_STATUS', 502, [number]>(
  'FST_FASTCGI_AUTHORIZER_STATUS', 'FastCGI authorizer answered status %d, which cannot be sent to a client', 502)

// X-Sendfile family (lighttpd reference 5.6); messages never name the path (it is logged)
export const SendfileForbiddenError = createError<'FST_FASTCGI_SENDFILE_FORBIDDEN', 403, []>(
  'FST_FASTCGI_SENDFILE_FORBIDDEN', 'The file named by X-Sendfile may not be sent', 403)
export const SendfileNotFoundError = createError<'FST_FASTCGI_SENDFILE_NOT_FOUND', 404, []>(
  'FST_FASTCGI_SENDFILE_NOT_FOUND', 'The file named by X-Sendfile does not exist', 404)
export const SendfileChangedError = createError<'FST_FASTCGI_SENDFILE_CHANGED', 502, []>(
  'FST_FASTCGI_SENDFILE_CHANGED', 'The file named by X-Sendfile shrank while being sent', 502)
export const BadSendfileError = createError<'FST_FASTCGI_BAD_SENDFILE', 502, [string]>(
  'FST_FASTCGI_BAD_SENDFILE', 'Bad X-Sendfile header from backend: %s', 502)

/**
 * What a client is told about a failed backend (502/503/504): the code and status of the
 * failure, never its socket path, address, port or timeout value; those go to the log.
 */
export class BackendFailureError extends Error {
  override readonly name = 'FastifyError'
  constructor (readonly code: string, readonly statusCode: number, message: string) {
    super(message)
  }
}
