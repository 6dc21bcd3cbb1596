// Opening one socket to a backend, with lighttpd's distinction between a backend that is
// not there (refused) and one that cannot take more (EAGAIN: unix backlog full, or no
// local TCP port left), which the pool treats differently.
import net from 'node:net'
import type { BackendAddress } from './address'
import { formatAddress } from './address'
import { ConnectError, ConnectTimeoutError, OverloadedError } from '../errors'

export type ConnectFailureKind = 'refused' | 'overloaded' | 'timeout'

export type ConnectFailure = InstanceType<typeof ConnectError> | InstanceType<typeof ConnectTimeoutError> | InstanceType<typeof OverloadedError>

/** How a connect error should be reported to the pool, or undefined when it is no connect error. */
export function connectFailureKind (err: unknown): ConnectFailureKind | undefined {
  if (err instanceof ConnectTimeoutError) return 'timeout'
  if (err instanceof ConnectError) return 'refused'
  if (err instanceof OverloadedError && (err as { cause?: unknown }).cause !== undefined) return 'overloaded'
  return undefined
}

export function connectSocket (address: BackendAddress, timeout: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'unix'
      ? net.connect({ path: address.path })
      : net.connect({ host: address.host, port: address.port })
    let timer: NodeJS.Timeout | undefined
    const settle = (err: Error | undefined): void => {
      if (timer !== undefined) clearTimeout(timer)
      socket.removeListener('error', onError)
      socket.removeListener('connect', onConnect)
      if (err === undefined) {
        resolve(socket)
      } else {
        socket.destroy()
        reject(err)
      }
    }
    const onConnect = (): void => settle(undefined)
    const onError = (err: NodeJS.ErrnoException): void => {
      const name = formatAddress(address)
      settle(err.code === 'EAGAIN'
        ? new OverloadedError(name, { cause: err })
        : new ConnectError(name, err.code ?? err.message, { cause: err }))
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    if (timeout > 0) {
      timer = setTimeout(() => settle(new ConnectTimeoutError(formatAddress(address), timeout)), timeout)
    }
  })
}
