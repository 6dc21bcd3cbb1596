// Shared by the client layer's unit tests: a BackendClient with test settings, reading a
// response whole, and a bounded poll for states that become true later.
import { BackendClient } from '../../plugin/client/backend-client'
import type { BackendClientOptions, BackendRequest } from '../../plugin/client/backend-client'
import type { BackendAddress } from '../../plugin/client/address'
import type { FastcgiResponse } from '../../plugin/client/exchange'
import { Role } from '../../plugin/protocol'
import type { TeardownHost } from './tmp'

export function makeClient (t: TeardownHost, address: BackendAddress, overrides: Partial<BackendClientOptions> = {}): BackendClient {
  const client = new BackendClient({
    address,
    connectTimeout: 5000,
    readTimeout: 10_000,
    writeTimeout: 10_000,
    keepAlive: true,
    keepAliveMaxIdle: 16,
    keepAliveTimeout: 10_000,
    // tests that count connections over several requests must not meet a turn on a slow
    // machine; the turn has its own test (kept-connections-take-turns), with the default
    keepAliveTurn: 60_000,
    maxConcurrency: Infinity,
    queueLimit: 1000,
    queueTimeout: 0,
    headerLimit: 8192,
    ...overrides
  })
  t.teardown(() => client.destroy())
  return client
}

/** A responder request for `script` (SCRIPT_FILENAME) with these extra params. */
export function responder (script: string, extra: Array<[string, string]> = [], more: Partial<BackendRequest> = {}): BackendRequest {
  return {
    role: Role.RESPONDER,
    params: [['SCRIPT_FILENAME', script], ['SCRIPT_NAME', '/' + script.split('/').pop()], ['REQUEST_METHOD', 'GET'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ...extra],
    body: undefined,
    ...more
  }
}

export interface WholeResponse { status: number, headers: Array<[string, string]>, body: string }

export async function readWhole (response: FastcgiResponse): Promise<WholeResponse> {
  let body: Buffer
  if (response.complete !== undefined) body = response.complete
  else {
    const chunks: Buffer[] = []
    for await (const chunk of response.body) chunks.push(chunk as Buffer)
    body = Buffer.concat(chunks)
  }
  return { status: response.status, headers: response.headers, body: body.toString() }
}

/** Waits until `check()` holds, polling every 10 ms, at most `timeoutMs`; returns whether it held. */
export async function until (check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}
