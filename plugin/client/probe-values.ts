// FCGI_GET_VALUES on a connection of its own: does the backend answer management records?
// php-cgi, php-fpm, Go's net/http/fcgi and most hand-written servers do; libfcgi does not.
// That matters for kept connections: libfcgi's multithreaded FCGX_Accept_r pattern (the one
// in lighttpd's documentation) holds an accept lock in one thread while the thread that owns
// a kept connection waits for that lock, so a request sent on a kept connection stalls until
// a new connection arrives. Kept connections are only safe where the backend shows it is not
// libfcgi.
import type { BackendAddress } from './address'
import { connectSocket } from './connect'
import { RecordDecoder, RecordType, decodeNameValuePairs, encodeGetValues } from '../protocol'

export const VALUE_NAMES = ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'] as const

/** The backend's answer, or undefined when it gave none within `timeout` ms (or failed). */
export async function probeValues (address: BackendAddress, timeout: number): Promise<Map<string, string> | undefined> {
  let socket
  try {
    socket = await connectSocket(address, timeout)
  } catch {
    return undefined
  }
  const open = socket
  return await new Promise((resolve) => {
    const finish = (values: Map<string, string> | undefined): void => {
      clearTimeout(timer)
      open.removeAllListeners('data')
      open.destroy()
      resolve(values)
    }
    const timer = setTimeout(() => finish(undefined), timeout)
    const decoder = new RecordDecoder((type, _id, content) => {
      if (type !== RecordType.GET_VALUES_RESULT) return
      try {
        finish(new Map(decodeNameValuePairs(content)))
      } catch {
        finish(undefined)
      }
    })
    open.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk)
      } catch {
        finish(undefined)
      }
    })
    open.on('error', () => finish(undefined))
    open.on('close', () => finish(undefined))
    open.write(encodeGetValues(VALUE_NAMES))
  })
}
