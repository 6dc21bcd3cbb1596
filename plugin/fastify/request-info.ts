// What the cgi layer needs to know about a Fastify request.
import type { FastifyRequest } from 'fastify'
import type { CgiRequestInfo } from '../cgi/params'

/** `::ffff:127.0.0.1` -> `127.0.0.1`: a dual-stack listener should not change REMOTE_ADDR. */
function plainAddress (address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

function headerPairs (raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string])
  return pairs
}

export interface TargetOverride {
  readonly method: string
  readonly rawTarget: string
  readonly path: string
  readonly query: string
}

export function buildRequestInfo (request: FastifyRequest, target: TargetOverride, contentLength: number | undefined, serverSoftware: string, serverName: string | undefined): CgiRequestInfo {
  const raw = request.raw
  const socket = raw.socket
  const info: CgiRequestInfo = {
    method: target.method,
    rawTarget: target.rawTarget,
    path: target.path,
    query: target.query,
    httpVersion: raw.httpVersion,
    headers: headerPairs(raw.rawHeaders),
    contentLength,
    remoteAddress: plainAddress(request.ip),
    remotePort: socket?.remotePort ?? 0,
    serverAddress: plainAddress(socket?.localAddress),
    serverPort: socket?.localPort ?? 0,
    https: request.protocol === 'https',
    serverSoftware
  }
  return serverName === undefined ? info : { ...info, serverName }
}
