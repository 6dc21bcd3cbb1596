// The listening socket of a spawned backend: we create it, the child inherits it as fd 0
// (FCGI_LISTENSOCK_FILENO), and our copy is closed. Also: finding out whether an address is
// already served before we spawn on it (lighttpd reference §7.1 step 1).
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { BackendAddress } from '../client/address'
import { STARTUP_VALUE_NAMES, paddedGetValues } from '../client/probe-values'

export type ProbeResult =
  /** nothing there: spawn */
  | { readonly kind: 'free' }
  /** a unix socket file nobody listens on: unlink it, then spawn */
  | { readonly kind: 'stale' }
  /** something that answered like a FastCGI application: use it, do not spawn */
  | { readonly kind: 'fastcgi' }
  /** something else holds the address: start-up must fail */
  | { readonly kind: 'taken', readonly detail: string }

// FCGI_GET_VALUES asking for FCGI_MPXS_CONNS, padded: the smallest question every FastCGI library
// answers (with FCGI_GET_VALUES_RESULT, or FCGI_UNKNOWN_TYPE), and one an HTTP server rejects loudly.
const GET_VALUES = paddedGetValues(STARTUP_VALUE_NAMES)

function errorCode (err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

function printable (data: Buffer): string {
  return JSON.stringify(data.subarray(0, 24).toString('latin1'))
}

/** Connects, asks FCGI_GET_VALUES and classifies the first bytes of the answer. */
function probeConnect (address: BackendAddress, timeout: number): Promise<ProbeResult | 'refused'> {
  return new Promise((resolve) => {
    const socket = address.kind === 'unix'
      ? net.connect({ path: address.path })
      : net.connect({ host: address.host, port: address.port })
    let received = Buffer.alloc(0)
    let connected = false
    const finish = (result: ProbeResult | 'refused'): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    // Silence or a close without a word: a FastCGI application that ignores management
    // records is still a FastCGI application, so the benefit of the doubt goes to it.
    const timer = setTimeout(() => finish(connected ? { kind: 'fastcgi' } : 'refused'), timeout)
    socket.on('connect', () => {
      connected = true
      socket.write(GET_VALUES)
    })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 8) return
      const isFastCgi = received[0] === 1 && (received[1] === 10 || received[1] === 11) &&
        received[2] === 0 && received[3] === 0
      finish(isFastCgi
        ? { kind: 'fastcgi' }
        : { kind: 'taken', detail: `it answers but not as FastCGI (${printable(received)})` })
    })
    socket.on('end', () => {
      finish(received.length === 0
        ? { kind: 'fastcgi' }
        : { kind: 'taken', detail: `it answers but not as FastCGI (${printable(received)})` })
    })
    socket.on('error', (err) => {
      if (connected) {
        finish({ kind: 'fastcgi' })
        return
      }
      const code = errorCode(err)
      if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EADDRNOTAVAIL') finish('refused')
      else finish({ kind: 'taken', detail: `connecting to it fails with ${code ?? err.message}` })
    })
  })
}

export async function probeAddress (address: BackendAddress, timeout: number): Promise<ProbeResult> {
  if (address.kind === 'unix') {
    let stat: fs.Stats
    try {
      stat = await fs.promises.lstat(address.path)
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return { kind: 'free' }
      return { kind: 'taken', detail: `cannot inspect the socket path (${errorCode(err) ?? String(err)})` }
    }
    // connect() to a regular file also says ECONNREFUSED; never unlink what is not a socket
    if (!stat.isSocket()) return { kind: 'taken', detail: 'the socket path exists and is not a socket' }
  }
  const result = await probeConnect(address, timeout)
  if (result !== 'refused') return result
  return address.kind === 'unix' ? { kind: 'stale' } : { kind: 'free' }
}

function socketFd (server: net.Server): number {
  // Node keeps the listening handle private; its fd is what the child must inherit
  if ('_handle' in server) {
    const handle: unknown = server._handle
    if (typeof handle === 'object' && handle !== null && 'fd' in handle && typeof handle.fd === 'number' && handle.fd >= 0) {
      return handle.fd
    }
  }
  throw new Error('the listening socket has no file descriptor')
}

/**
 * Listens on `address`, calls `use(fd)` (which spawns the child, inheriting fd) and then closes
 * our copy of the socket.
 *
 * `use` runs synchronously in the 'listening' callback, and our copy is closed in the same tick:
 * the event loop never polls in between, so the parent never accepts a connection meant for the
 * child. Closing a unix-socket server makes libuv unlink its path, which the child is still
 * listening on, so the file is kept alive by a hard link that is renamed back afterwards.
 */
export function withListeningSocket<T> (address: BackendAddress, backlog: number, use: (fd: number) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const server = net.createServer()
    server.on('connection', (socket) => socket.destroy())
    server.once('error', reject)
    const options: net.ListenOptions = address.kind === 'unix'
      ? { path: address.path, backlog, exclusive: true }
      : { host: address.host, port: address.port, backlog, exclusive: true }
    server.listen(options, () => {
      server.off('error', reject)
      let result: T
      try {
        result = use(socketFd(server))
      } catch (err) {
        server.close()
        reject(err)
        return
      }
      try {
        if (address.kind === 'unix') {
          const keep = path.join(path.dirname(address.path), `.${path.basename(address.path)}.${randomBytes(6).toString('hex')}`)
          fs.linkSync(address.path, keep)
          server.close()
          fs.renameSync(keep, address.path)
        } else {
          server.close()
        }
      } catch (err) {
        server.close()
        reject(err)
        return
      }
      resolve(result)
    })
  })
}

/** Removes a socket file we created; one that is already gone is fine. */
export function unlinkSocketSync (socketPath: string): void {
  try {
    fs.unlinkSync(socketPath)
  } catch {
    // already gone, or the directory went away with it
  }
}
