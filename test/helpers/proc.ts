// Processes started by tests: spawned in their own process group, output kept for error
// messages, stopped by pid (and that group) at t.teardown. Also: where a backend listens.
import { spawn } from 'node:child_process'
import type { ChildProcess, StdioOptions } from 'node:child_process'
import { connect, createServer } from 'node:net'
import type { Server } from 'node:net'
import { renameSync } from 'node:fs'
import { join } from 'node:path'
import type { BackendAddress } from '../../plugin/client/address'
import { makeTempDir } from './tmp'
import type { TeardownHost } from './tmp'
import { freePort } from './ports'

export type { BackendAddress }

/** Where a test backend should listen: a unix socket path, or a TCP port (0 = pick a free one) on host (default 127.0.0.1). Neither: a unix socket in a temp dir. */
export interface ListenOptions {
  socket?: string
  port?: number
  host?: string
}

/** The plugin's backend options for an address: `{ socket }` or `{ host, port }`. */
export type BackendOptions = { socket: string } | { host: string, port: number }

/** A resolved listening address, in the forms the tests need. */
export interface ResolvedListen {
  address: BackendAddress
  options: BackendOptions
  /** `PATH` or `HOST:PORT`, as php-cgi -b and spawn-fcgi want it. */
  bindArg: string
}

/** Turns ListenOptions into a concrete address (allocating a temp socket path or a free port when needed). */
export async function resolveListen (t: TeardownHost, opts: ListenOptions = {}, name = 'backend'): Promise<ResolvedListen> {
  if (opts.socket !== undefined) {
    return { address: { kind: 'unix', path: opts.socket }, options: { socket: opts.socket }, bindArg: opts.socket }
  }
  if (opts.port !== undefined) {
    const host = opts.host ?? '127.0.0.1'
    const port = opts.port === 0 ? await freePort() : opts.port
    return { address: { kind: 'tcp', host, port }, options: { host, port }, bindArg: `${host}:${port}` }
  }
  const socket = join(makeTempDir(t, 'ffcgi-sock-'), `${name}.sock`)
  return { address: { kind: 'unix', path: socket }, options: { socket }, bindArg: socket }
}

/** A child process owned by a test. */
export interface ManagedProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** stdout and stderr so far (the last 256 KiB). */
  output (): string
  /** True once the process has exited. */
  hasExited (): boolean
  /** SIGTERM to the pid and its process group, SIGKILL after graceMs (default 5000); resolves when it has exited. */
  stop (graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** What becomes the child's fd 0: an fd number (a listening socket) or 'ignore' (default). */
  stdin?: number | 'ignore'
  /** Signal for stop() (default SIGTERM). */
  killSignal?: NodeJS.Signals
}

const OUTPUT_LIMIT = 256 * 1024

/** Spawns argv[0] with argv[1..] (no shell) in a new process group; it is stopped by pid at t.teardown. */
export function spawnTracked (t: TeardownHost, argv: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  const [command, ...args] = argv
  if (command === undefined) throw new Error('spawnTracked: empty argv')
  const stdio: StdioOptions = [opts.stdin ?? 'ignore', 'pipe', 'pipe']
  const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio, detached: true })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output += chunk.toString('utf8')
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let done = false
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => { keep(Buffer.from(`spawn error: ${err.message}\n`)); done = true; resolve({ code: null, signal: null }) })
    child.once('exit', (code, signal) => { done = true; resolve({ code, signal }) })
  })
  const pid = child.pid ?? -1
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (pid <= 0) return
    try { process.kill(-pid, signal) } catch { try { process.kill(pid, signal) } catch {} }
  }
  const stop = async (graceMs = 5000): Promise<void> => {
    if (!done) {
      signalGroup(opts.killSignal ?? 'SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const killed = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(true) }, graceMs) })
      ])
      clearTimeout(timer)
      if (killed) { signalGroup('SIGKILL'); await exited }
    }
    // leftovers of our own group (children of a master that died first)
    if (pid > 0) { try { process.kill(-pid, 'SIGKILL') } catch {} }
  }
  t.teardown(async () => { await stop() })
  return { pid, child, exited, output: () => output, hasExited: () => done, stop }
}

/** Resolves once a connection to `address` succeeds; rejects after timeoutMs or as soon as `proc` exits (with its output). */
export async function waitForAddress (address: BackendAddress, opts: { timeoutMs?: number, proc?: ManagedProcess, what?: string } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15000)
  const what = opts.what ?? 'backend'
  for (let attempt = 0; ; attempt++) {
    if (opts.proc?.hasExited() === true) {
      throw new Error(`${what} exited before listening on ${describe(address)}:\n${opts.proc.output()}`)
    }
    if (await tryConnect(address)) return
    if (Date.now() > deadline) {
      throw new Error(`${what} not listening on ${describe(address)} after ${opts.timeoutMs ?? 15000} ms (${attempt} attempts)${opts.proc !== undefined ? ':\n' + opts.proc.output() : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** `unix:PATH` or `tcp:HOST:PORT`. */
export function describe (address: BackendAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`
}

async function tryConnect (address: BackendAddress): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

/**
 * A listening socket for a child's fd 0 (FCGI_LISTENSOCK_FILENO). Call release() right after
 * spawning: it closes the parent's copy. A unix socket is bound under a temporary name and
 * renamed into place, so that closing the parent's handle (libuv unlinks the path it bound)
 * leaves the child's socket file alone.
 */
export async function listenForChild (address: BackendAddress, backlog = 128): Promise<{ fd: number, release: () => void }> {
  const server = createServer()
  const tmpPath = address.kind === 'unix' ? `${address.path}.${process.pid}.tmp` : undefined
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (address.kind === 'unix') server.listen({ path: tmpPath, backlog }, resolve)
    else server.listen({ host: address.host, port: address.port, backlog, exclusive: true }, resolve)
  })
  if (tmpPath !== undefined && address.kind === 'unix') renameSync(tmpPath, address.path)
  const fd = serverFd(server)
  // stop the parent from accepting: nothing connects before the child runs, and release() closes it
  return { fd, release: () => { server.close() } }
}

function serverFd (server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: number } })._handle
  const fd = handle?.fd
  if (typeof fd !== 'number' || fd < 0) throw new Error('cannot get the listening socket fd')
  return fd
}
