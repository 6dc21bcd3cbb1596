// Shared pieces of the hardening tests: a Fastify app with the plugin listening on loopback,
// a raw-socket HTTP client (for slow, pipelined and HTTP/1.0 requests), and waits.
import net from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiPluginOptions } from '../../plugin'
import type { TeardownHost } from '../helpers/tmp'
import { makeTempDir } from '../helpers/tmp'
import { startFaultServer, faults } from '../helpers/fault-server'

export interface Listening {
  app: FastifyInstance
  port: number
  base: string
}

/** Fastify with the plugin, listening on 127.0.0.1:<free port>, closed at teardown. */
export async function listenWithPlugin (t: TeardownHost, options: FastcgiPluginOptions, fastifyOptions: FastifyServerOptions = {}): Promise<Listening> {
  const app = Fastify(fastifyOptions)
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  return { app, port, base: `http://127.0.0.1:${port}` }
}

/**
 * The gateway of the upload tests: an echoing backend at /app, bodies up to 16 MiB spooled to
 * a temp directory of their own past 4 KiB.
 */
export async function listenSpoolingEcho (t: TeardownHost): Promise<Listening & { spoolDirectory: string, backend: Awaited<ReturnType<typeof startFaultServer>> }> {
  const backend = await startFaultServer(t, { ...faults.echoStdin() })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const listening = await listenWithPlugin(t, { documentRoot: process.cwd(), spoolMemoryLimit: 4096, spoolDirectory, server: { '/app': [{ ...backend.options, checkLocal: false }] } }, { bodyLimit: 16 * 1024 * 1024 })
  return { ...listening, spoolDirectory, backend }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until every backend's load is 0 (at most timeoutMs); returns the loads last seen. */
export async function loadsBackToZero (app: { fastcgi: { backends (): Array<{ load: number }> } }, timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  let loads = app.fastcgi.backends().map((b) => b.load)
  while (loads.some((l) => l !== 0) && Date.now() < deadline) {
    await sleep(20)
    loads = app.fastcgi.backends().map((b) => b.load)
  }
  return loads
}

/** A raw TCP connection to the server that collects everything it receives. */
export interface RawConnection {
  socket: net.Socket
  /** everything received so far (latin1) */
  received (): string
  /** true once the server closed (FIN or reset) */
  closed (): boolean
  write (data: string | Buffer): Promise<void>
  /** waits until `predicate(received)` holds or the connection closes or timeoutMs passes; returns received */
  waitFor (predicate: (text: string) => boolean, timeoutMs: number): Promise<string>
  destroy (): void
}

export async function rawConnect (t: TeardownHost, port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = net.connect({ host, port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  t.teardown(() => { socket.destroy() })
  const chunks: Buffer[] = []
  let closed = false
  const waiters = new Set<() => void>()
  const notify = (): void => { for (const w of waiters) w() }
  socket.on('data', (chunk: Buffer) => { chunks.push(chunk); notify() })
  socket.on('error', () => {})
  socket.on('close', () => { closed = true; notify() })
  const received = (): string => Buffer.concat(chunks).toString('latin1')
  return {
    socket,
    received,
    closed: () => closed,
    write: async (data) => {
      if (closed || socket.destroyed) return
      await new Promise<void>((resolve) => { socket.write(data, () => { resolve() }) })
    },
    waitFor: async (predicate, timeoutMs) => {
      const deadline = Date.now() + timeoutMs
      while (!predicate(received()) && !closed && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, deadline - Date.now())
          function done (): void { clearTimeout(timer); waiters.delete(done); resolve() }
          waiters.add(done)
        })
      }
      return received()
    },
    destroy: () => { socket.destroy() }
  }
}

/** One parsed HTTP/1.x response off the front of `text`; undefined when it is not complete yet. */
export interface RawResponse { status: number, version: string, headers: Record<string, string>, body: string, length: number }

export function parseResponse (text: string, noBody = false): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const lines = text.slice(0, end).split('\r\n')
  const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(lines[0] ?? '')
  if (m === null) return undefined
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  let at = end + 4
  let body = ''
  if (noBody) {
    // a HEAD response: headers only, whatever they announce
  } else if (headers['transfer-encoding'] === 'chunked') {
    for (;;) {
      const lineEnd = text.indexOf('\r\n', at)
      if (lineEnd === -1) return undefined
      const size = parseInt(text.slice(at, lineEnd), 16)
      if (Number.isNaN(size)) return undefined
      if (text.length < lineEnd + 2 + size + 2) return undefined
      body += text.slice(lineEnd + 2, lineEnd + 2 + size)
      at = lineEnd + 2 + size + 2
      if (size === 0) break
    }
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length'])
    if (text.length < at + n) return undefined
    body = text.slice(at, at + n)
    at += n
  } else {
    // delimited by close
    body = text.slice(at)
    at = text.length
  }
  return { status: Number(m[2]), version: m[1] as string, headers, body, length: at }
}

/** All complete responses at the front of `text`, in order; `heads[i]` marks the answer to a HEAD. */
export function parseResponses (text: string, heads: readonly boolean[] = []): RawResponse[] {
  const out: RawResponse[] = []
  let rest = text
  for (;;) {
    const r = parseResponse(rest, heads[out.length] === true)
    if (r === undefined || r.length === 0) return out
    out.push(r)
    rest = rest.slice(r.length)
    if (rest === '') return out
  }
}
