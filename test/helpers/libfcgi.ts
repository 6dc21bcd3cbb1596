// libfcgi programs: C fixtures compiled by the tests, and any FastCGI program that accepts on
// the listening socket at fd 0 (FCGI_LISTENSOCK_FILENO) — the Perl app, fcgiwrap, the example app.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { TeardownHost } from './tmp'
import { findBinary } from './php'
import { listenForChild, resolveListen, spawnTracked, waitForAddress } from './proc'
import type { BackendAddress, BackendOptions, ListenOptions, ManagedProcess } from './proc'

/** test/fixtures (absolute). */
export const FIXTURES = join(__dirname, '..', 'fixtures')
/** Where compiled C fixtures go (gitignored). */
export const FIXTURE_BIN = join(FIXTURES, 'bin')
/** The Perl FCGI fixture. */
export const PERL_APP = join(FIXTURES, 'perl', 'hello.fcgi')
/** The shell CGI fixture for fcgiwrap. */
export const CGI_SCRIPT = join(FIXTURES, 'cgi', 'hello.cgi')
/** The example Node FastCGI app (examples/fcgi-app/server.js). */
export const EXAMPLE_APP = join(__dirname, '..', '..', 'examples', 'fcgi-app', 'server.js')

/** True when gcc and libfcgi-dev's fcgiapp.h are there. */
export function hasLibfcgi (): boolean {
  return findBinary('gcc') !== undefined && (existsSync('/usr/include/fcgiapp.h') || existsSync('/usr/local/include/fcgiapp.h'))
}

/** True when Perl and its FCGI module (libfcgi-perl) are there. */
export function hasPerlFcgi (): boolean {
  if (findBinary('perl') === undefined) return false
  try { execFileSync('perl', ['-MFCGI', '-e', '1'], { stdio: 'ignore' }); return true } catch { return false }
}

/** True when fcgiwrap is installed. */
export function hasFcgiwrap (): boolean {
  return findBinary('fcgiwrap') !== undefined
}

/** True when spawn-fcgi is installed. */
export function hasSpawnFcgi (): boolean {
  return findBinary('spawn-fcgi') !== undefined
}

/**
 * Compiles test/fixtures/c/<name>.c (gcc -O2, -lfcgi -lpthread -lm) into test/fixtures/bin/<name>
 * when the binary is missing or older than the source or the fixture headers; returns its path.
 * Concurrent builds are safe (each writes a temp file and renames it into place).
 */
export function buildCApp (name: string): string {
  const source = join(FIXTURES, 'c', `${name}.c`)
  if (!existsSync(source)) throw new Error(`no C fixture ${source}`)
  const binary = join(FIXTURE_BIN, name)
  const newestInput = Math.max(...[source, join(FIXTURES, 'c', 'md5.h'), join(FIXTURES, 'c', 'query.h')]
    .filter((file) => existsSync(file)).map((file) => statSync(file).mtimeMs))
  if (existsSync(binary) && statSync(binary).mtimeMs >= newestInput) return binary
  mkdirSync(FIXTURE_BIN, { recursive: true })
  const tmp = `${binary}.${process.pid}.tmp`
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, source, '-lfcgi', '-lpthread', '-lm'], { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: Buffer, message: string }
    throw new Error(`gcc failed for ${source}: ${e.stderr?.toString() ?? e.message}`)
  }
  renameSync(tmp, binary)
  return binary
}

/** A running FastCGI program started by a test. */
export interface FcgiProgram {
  address: BackendAddress
  /** Ready for the plugin's server config: `{ socket }` or `{ host, port }`. */
  options: BackendOptions
  pid: number
  proc: ManagedProcess
}

export interface Fd0Options extends ListenOptions {
  /** Environment (default: PATH only, plus THREADS when threads is given). */
  env?: Record<string, string>
  /** For threaded.c: THREADS in the environment. */
  threads?: number
  /** 'fd0' (default): the test creates the listening socket and passes it as fd 0; 'spawn-fcgi': `spawn-fcgi -n` does it. */
  via?: 'fd0' | 'spawn-fcgi'
  /** listen backlog (default 128). */
  backlog?: number
  /** Signal to stop it (default SIGTERM). */
  killSignal?: NodeJS.Signals
}

/** Starts argv with a listening socket on fd 0, waits until it accepts, stops it by pid at t.teardown. */
export async function startFd0App (t: TeardownHost, argv: readonly string[], opts: Fd0Options = {}): Promise<FcgiProgram> {
  const listen = await resolveListen(t, opts, 'fcgi-app')
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env }
  if (opts.threads !== undefined) env.THREADS = String(opts.threads)
  const spawnOpts = { env, ...(opts.killSignal !== undefined ? { killSignal: opts.killSignal } : {}) }
  let proc: ManagedProcess
  if (opts.via === 'spawn-fcgi') {
    const bin = findBinary('spawn-fcgi')
    if (bin === undefined) throw new Error('spawn-fcgi is not installed')
    const where = listen.address.kind === 'unix'
      ? ['-s', listen.address.path, '-M', '0666']
      : ['-a', listen.address.host, '-p', String(listen.address.port)]
    proc = spawnTracked(t, [bin, '-n', ...where, '-b', String(opts.backlog ?? 128), '--', ...argv], spawnOpts)
  } else {
    const listener = await listenForChild(listen.address, opts.backlog ?? 128)
    try {
      proc = spawnTracked(t, argv, { ...spawnOpts, stdin: listener.fd })
    } finally {
      listener.release()
    }
  }
  await waitForAddress(listen.address, { proc, what: argv.join(' ') })
  return { address: listen.address, options: listen.options, pid: proc.pid, proc }
}

/** Starts a compiled C fixture (from buildCApp) on fd 0 (or via spawn-fcgi); `args` go after the binary. */
export async function startCApp (t: TeardownHost, binary: string, opts: Fd0Options & { args?: string[] } = {}): Promise<FcgiProgram> {
  return await startFd0App(t, [binary, ...(opts.args ?? [])], opts)
}

/** Starts the Perl FCGI fixture (perl/hello.fcgi) on fd 0. */
export async function startPerlApp (t: TeardownHost, opts: Fd0Options = {}): Promise<FcgiProgram> {
  return await startFd0App(t, ['perl', PERL_APP], opts)
}

/** Starts fcgiwrap on fd 0 (it runs the CGI program named by SCRIPT_FILENAME); `children` is its -c. */
export async function startFcgiwrap (t: TeardownHost, opts: Fd0Options & { children?: number } = {}): Promise<FcgiProgram> {
  const bin = findBinary('fcgiwrap')
  if (bin === undefined) throw new Error('fcgiwrap is not installed')
  return await startFd0App(t, [bin, '-c', String(opts.children ?? 1)], opts)
}

/** Starts the example Node FastCGI app (examples/fcgi-app) on fd 0, as a FastCGI spawner would. */
export async function startExampleApp (t: TeardownHost, opts: Fd0Options = {}): Promise<FcgiProgram> {
  return await startFd0App(t, [process.execPath, EXAMPLE_APP], opts)
}
