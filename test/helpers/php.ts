// php-cgi (`php-cgi -b`) and php-fpm (its own php-fpm.conf, pm static) started by tests.
import { existsSync, readdirSync, writeFileSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { makeTempDir } from './tmp'
import type { TeardownHost } from './tmp'
import { resolveListen, spawnTracked, waitForAddress } from './proc'
import type { BackendAddress, BackendOptions, ListenOptions, ManagedProcess } from './proc'

/** Absolute path of test/fixtures/php (the document root of the PHP fixtures). */
export const PHP_FIXTURES = join(__dirname, '..', 'fixtures', 'php')

/** First executable named `name` in PATH, /usr/sbin, /usr/bin, /usr/local/{s,}bin; undefined when absent. */
export function findBinary (name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, name)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** Path of php-fpm (`php-fpm`, or Debian's versioned `php-fpmX.Y`); undefined when absent. */
export function phpFpmBinary (): string | undefined {
  const plain = findBinary('php-fpm')
  if (plain !== undefined) return plain
  for (const dir of ['/usr/sbin', '/usr/local/sbin']) {
    let names: string[] = []
    try { names = readdirSync(dir) } catch { continue }
    const versioned = names.filter((n) => /^php-fpm\d+(\.\d+)?$/.test(n)).sort().reverse()[0]
    if (versioned !== undefined) return join(dir, versioned)
  }
  return undefined
}

/** True when php-cgi is installed (tests t.skip otherwise; CI has it). */
export function hasPhpCgi (): boolean {
  return findBinary('php-cgi') !== undefined
}

/** True when php-fpm is installed (tests t.skip otherwise; CI has it). */
export function hasPhpFpm (): boolean {
  return phpFpmBinary() !== undefined
}

/** A running PHP backend. */
export interface PhpBackend {
  address: BackendAddress
  /** Ready for the plugin's server config: `{ socket }` or `{ host, port }`. */
  options: BackendOptions
  pid: number
  proc: ManagedProcess
}

export interface PhpCgiOptions extends ListenOptions {
  /** PHP_FCGI_CHILDREN (default 1: a master and one child; 0: the master serves alone). */
  children?: number
  /** PHP_FCGI_MAX_REQUESTS (php-cgi's default is 500). */
  maxRequests?: number
  /** Extra environment variables. php-cgi otherwise gets only PATH (its environment leaks into $_SERVER). */
  env?: Record<string, string>
  /** `-d name=value` ini settings. */
  ini?: Record<string, string>
}

/** Starts `php-cgi -b <socket|host:port>`, waits until it accepts, stops it by pid at t.teardown. */
export async function startPhpCgi (t: TeardownHost, opts: PhpCgiOptions = {}): Promise<PhpBackend> {
  const bin = findBinary('php-cgi')
  if (bin === undefined) throw new Error('php-cgi is not installed (apt-get install php-cgi)')
  const listen = await resolveListen(t, opts, 'php-cgi')
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', PHP_FCGI_CHILDREN: String(opts.children ?? 1) }
  if (opts.maxRequests !== undefined) env.PHP_FCGI_MAX_REQUESTS = String(opts.maxRequests)
  Object.assign(env, opts.env)
  const args = [bin]
  for (const [name, value] of Object.entries(opts.ini ?? {})) args.push('-d', `${name}=${value}`)
  args.push('-b', listen.bindArg)
  const proc = spawnTracked(t, args, { env })
  await waitForAddress(listen.address, { proc, what: 'php-cgi' })
  return { address: listen.address, options: listen.options, pid: proc.pid, proc }
}

export interface PhpFpmOptions extends ListenOptions {
  /** pm.max_children with pm = static (default 2). */
  children?: number
  /** pm.max_requests: each worker is recycled after that many requests (default 0: never). */
  maxRequests?: number
  /** listen.allowed_clients (TCP only; default 127.0.0.1). */
  listenAllowedClients?: string
  /** clear_env (default true: $_SERVER holds only what the gateway sends). */
  clearEnv?: boolean
  /** request_terminate_timeout in seconds (default 0: off). */
  requestTerminateTimeout?: number
  /** php_admin_value[...] settings for the pool. */
  ini?: Record<string, string>
  /** Extra lines appended to the pool section verbatim. */
  extraPoolConfig?: string
}

/** A running php-fpm, with where its files are. */
export interface PhpFpmBackend extends PhpBackend {
  dir: string
  configFile: string
  /** php-fpm's error_log so far. */
  log (): string
}

/** Starts php-fpm -F -n -R -y <own conf> (pm static, loopback or unix socket), waits for the socket, stops it by pid at t.teardown. */
export async function startPhpFpm (t: TeardownHost, opts: PhpFpmOptions = {}): Promise<PhpFpmBackend> {
  const bin = phpFpmBinary()
  if (bin === undefined) throw new Error('php-fpm is not installed (apt-get install php-fpm)')
  const dir = makeTempDir(t, 'ffcgi-fpm-')
  const listen = await resolveListen(t, opts.socket === undefined && opts.port === undefined ? { socket: join(dir, 'fpm.sock') } : opts, 'php-fpm')
  const configFile = join(dir, 'php-fpm.conf')
  const logFile = join(dir, 'php-fpm.log')
  const lines = [
    '[global]',
    `pid = ${join(dir, 'php-fpm.pid')}`,
    `error_log = ${logFile}`,
    'daemonize = no',
    'log_level = notice',
    '',
    '[www]',
    `listen = ${listen.bindArg}`,
    'listen.mode = 0666',
    'listen.backlog = 511',
    'pm = static',
    `pm.max_children = ${opts.children ?? 2}`,
    `pm.max_requests = ${opts.maxRequests ?? 0}`,
    `clear_env = ${opts.clearEnv === false ? 'no' : 'yes'}`,
    'catch_workers_output = yes',
    'decorate_workers_output = no',
    `request_terminate_timeout = ${opts.requestTerminateTimeout ?? 0}`
  ]
  if (listen.address.kind === 'tcp') lines.push(`listen.allowed_clients = ${opts.listenAllowedClients ?? '127.0.0.1'}`)
  for (const [name, value] of Object.entries(opts.ini ?? {})) lines.push(`php_admin_value[${name}] = ${value}`)
  if (opts.extraPoolConfig !== undefined) lines.push(opts.extraPoolConfig)
  writeFileSync(configFile, lines.join('\n') + '\n')
  const argv = [bin, '-F', '-n', '-y', configFile]
  if (process.getuid?.() === 0) argv.push('-R')
  const proc = spawnTracked(t, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  const log = (): string => { try { return readFileSync(logFile, 'utf8') } catch { return '' } }
  try {
    await waitForAddress(listen.address, { proc, what: 'php-fpm' })
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- php-fpm.log ---\n${log()}`)
  }
  return { address: listen.address, options: listen.options, pid: proc.pid, proc, dir, configFile, log }
}
