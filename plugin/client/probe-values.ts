// FCGI_GET_VALUES on a connection of its own: does the backend answer management records?
// php-cgi, php-fpm, Go's net/http/fcgi and most hand-written servers answer any; libfcgi answers
// only a record that carries padding (an unpadded one leaves it waiting for more bytes), so the
// unpadded question of keepAlive 'auto' tells libfcgi apart, and the padded one of the start-up
// checks is answered by every FastCGI library. Telling libfcgi apart matters for kept
// connections: its multithreaded FCGX_Accept_r pattern (the one in lighttpd's documentation)
// holds an accept lock in one thread while the thread that owns a kept connection waits for that
// lock, so a request sent on a kept connection stalls until a new connection arrives. Kept
// connections are only safe where the backend shows it is not libfcgi.
import type { BackendAddress } from './address'
import { connectSocket } from './connect'
import { ConnectTimeoutError, OverloadedError } from '../errors'
import { HEADER_LENGTH, NULL_REQUEST_ID, RecordDecoder, RecordType, VERSION_1, decodeNameValuePairs, encodeGetValues, encodeNameValuePairs, encodeRecord } from '../protocol'

export const VALUE_NAMES = ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'] as const
/** What the start-up checks ask (padded: libfcgi answers it too). */
export const STARTUP_VALUE_NAMES = ['FCGI_MPXS_CONNS'] as const

/** What one FCGI_GET_VALUES exchange showed about the peer. */
export type ProbeOutcome =
  /** a FastCGI record came back; `values` when it was FCGI_GET_VALUES_RESULT */
  | { readonly kind: 'answered', readonly values: Map<string, string> | undefined }
  /** connected, and nothing came within answerTimeout (libfcgi asked three names; a program that never accepts) */
  | { readonly kind: 'silent' }
  /** connected, then closed (`reset`: with an error, as when the listening socket goes away) before a byte came back */
  | { readonly kind: 'closed', readonly reset: boolean }
  /** the first bytes back are not a FastCGI record (an HTTP server on the port) */
  | { readonly kind: 'foreign', readonly sample: string }
  /** the connect failed: the errno code (ECONNREFUSED, ENOENT, EACCES, EAGAIN, ENOTFOUND, ...) */
  | { readonly kind: 'unreachable', readonly code: string }
  /** the connect did not complete within connectTimeout */
  | { readonly kind: 'timeout' }

export interface ProbeOptions {
  readonly connectTimeout: number
  /** ms to wait for an answer once connected */
  readonly answerTimeout: number
  readonly names: readonly string[]
  /** pad the record to a multiple of 8 bytes (at least one byte): libfcgi answers only then */
  readonly padded: boolean
}

function connectCode (err: unknown): string {
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code
  if (err instanceof OverloadedError) return 'EAGAIN'
  return err instanceof Error ? err.message : String(err)
}

/** FCGI_GET_VALUES for `names`, padded to a multiple of 8 bytes: every FastCGI library answers it. */
export function paddedGetValues (names: readonly string[]): Buffer {
  const content = encodeNameValuePairs(names.map((name) => [name, ''] as const))
  return encodeRecord(RecordType.GET_VALUES, NULL_REQUEST_ID, content, 8 - (content.length % 8))
}

function looksLikeFastcgi (header: Buffer): boolean {
  const type = header[1] ?? 0
  return header[0] === VERSION_1 && type >= RecordType.BEGIN_REQUEST && type <= RecordType.UNKNOWN_TYPE
}

/** Connects, asks FCGI_GET_VALUES for `names` and tells what came back; never rejects. */
export async function probeBackend (address: BackendAddress, options: ProbeOptions): Promise<ProbeOutcome> {
  let socket
  try {
    socket = await connectSocket(address, options.connectTimeout)
  } catch (err) {
    if (err instanceof ConnectTimeoutError) return { kind: 'timeout' }
    return { kind: 'unreachable', code: connectCode(err) }
  }
  const open = socket
  return await new Promise((resolve) => {
    let received = Buffer.alloc(0)
    let settled = false
    let headerSeen = false
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      open.removeAllListeners('data')
      open.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ kind: 'silent' }), options.answerTimeout)
    const decoder = new RecordDecoder((type, _id, content) => {
      if (type === RecordType.GET_VALUES_RESULT) {
        let values: Map<string, string> | undefined
        try {
          values = new Map(decodeNameValuePairs(content))
        } catch {
          values = undefined
        }
        finish({ kind: 'answered', values })
      } else if (type === RecordType.UNKNOWN_TYPE) {
        finish({ kind: 'answered', values: undefined })
      }
    })
    open.on('data', (chunk: Buffer) => {
      if (!headerSeen) {
        received = Buffer.concat([received, chunk])
        if (received.length < HEADER_LENGTH) return
        headerSeen = true
        if (!looksLikeFastcgi(received)) {
          finish({ kind: 'foreign', sample: JSON.stringify(received.subarray(0, 24).toString('latin1')) })
          return
        }
        chunk = received
      }
      try {
        decoder.push(chunk)
      } catch {
        finish({ kind: 'answered', values: undefined })
      }
    })
    const ended = (reset: boolean): void => finish(received.length === 0 ? { kind: 'closed', reset } : { kind: 'answered', values: undefined })
    open.on('error', () => ended(true))
    open.on('close', () => ended(false))
    open.on('end', () => ended(false))
    open.write(options.padded ? paddedGetValues(options.names) : encodeGetValues(options.names))
  })
}
