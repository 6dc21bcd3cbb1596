// lighttpd 1.4 (the Debian package) with mod_fastcgi, started by a test, for comparing our CGI
// environment and behaviour to lighttpd's. Its own lighttpd.conf in a temp dir, -D (foreground).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from './tmp'
import type { TeardownHost } from './tmp'
import { freePort } from './ports'
import { findBinary } from './php'
import { spawnTracked, waitForAddress } from './proc'
import type { ManagedProcess } from './proc'

/** A lighttpd config value: string, number, boolean (enable/disable), array `( ... )`, or object `( "k" => v, ... )`. */
export type LighttpdValue = string | number | boolean | LighttpdValue[] | { [key: string]: LighttpdValue }

/** fastcgi.server as a structure: extension or prefix -> hosts (array: unnamed; object: named). Host keys may be lighttpd's (`check-local`) or camelCase (`checkLocal`). */
export type FastcgiServerConfig = Record<string, Array<Record<string, LighttpdValue>> | Record<string, Record<string, LighttpdValue>>>

export interface LighttpdOptions {
  /** server.document-root. */
  documentRoot: string
  /** server.port on 127.0.0.1 (default: a free port). */
  port?: number
  /** fastcgi.server: the config text after `fastcgi.server = `, or a structure. */
  fastcgiServer: string | FastcgiServerConfig
  /** fastcgi.debug (0 default). */
  fastcgiDebug?: number
  /** fastcgi.map-extensions, e.g. { '.php3': '.php' }. */
  mapExtensions?: Record<string, string>
  /** index-file.names (default ["index.php", "index.html"]). */
  indexFiles?: string[]
  /** server.stream-response-body (0, 1, 2). */
  streamResponseBody?: 0 | 1 | 2
  /** server.stream-request-body (0, 1, 2). */
  streamRequestBody?: 0 | 1 | 2
  /** Extra modules besides mod_fastcgi (e.g. 'mod_setenv'). */
  modules?: string[]
  /** Appended to the config verbatim. */
  extraConfig?: string
}

/** A running lighttpd. */
export interface Lighttpd {
  port: number
  /** http://127.0.0.1:PORT */
  url: string
  pid: number
  proc: ManagedProcess
  dir: string
  configFile: string
  /** The config text that was written. */
  config: string
  /** server.errorlog so far. */
  errorLog (): string
}

/** Path of lighttpd, or undefined. */
export function lighttpdBinary (): string | undefined {
  return findBinary('lighttpd')
}

/** True when lighttpd is installed (tests t.skip otherwise; CI has it). */
export function hasLighttpd (): boolean {
  return lighttpdBinary() !== undefined
}

function kebab (key: string): string {
  return /^[a-z][a-zA-Z0-9]*$/.test(key) ? key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()) : key
}

/** Renders a value in lighttpd's config syntax. */
export function lighttpdValue (value: LighttpdValue): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') return String(value)
  if (typeof value === 'boolean') return value ? '"enable"' : '"disable"'
  if (Array.isArray(value)) return `( ${value.map(lighttpdValue).join(', ')} )`
  return `( ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} => ${lighttpdValue(v)}`).join(', ')} )`
}

/** Renders a FastcgiServerConfig (camelCase host keys become lighttpd's hyphenated names). */
export function renderFastcgiServer (config: FastcgiServerConfig): string {
  const host = (h: Record<string, LighttpdValue>): string => lighttpdValue(Object.fromEntries(Object.entries(h).map(([k, v]) => [kebab(k), v])))
  const entries = Object.entries(config).map(([key, hosts]) => {
    const body = Array.isArray(hosts)
      ? `( ${hosts.map(host).join(', ')} )`
      : `( ${Object.entries(hosts).map(([name, h]) => `${JSON.stringify(name)} => ${host(h)}`).join(',\n      ')} )`
    return `  ${JSON.stringify(key)} => ${body}`
  })
  return `(\n${entries.join(',\n')}\n)`
}

/** Writes lighttpd.conf (server.bind 127.0.0.1, mod_fastcgi), runs `lighttpd -D -f conf`, waits for the port, stops it by pid at t.teardown. */
export async function startLighttpd (t: TeardownHost, opts: LighttpdOptions): Promise<Lighttpd> {
  const bin = lighttpdBinary()
  if (bin === undefined) throw new Error('lighttpd is not installed (apt-get install lighttpd)')
  const dir = makeTempDir(t, 'ffcgi-lighttpd-')
  const port = opts.port ?? await freePort()
  const errorLogFile = join(dir, 'error.log')
  const modules = ['mod_fastcgi', ...(opts.modules ?? [])]
  const lines = [
    `server.document-root = ${lighttpdValue(opts.documentRoot)}`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    `server.modules = ${lighttpdValue(modules)}`,
    `server.errorlog = ${lighttpdValue(errorLogFile)}`,
    `server.upload-dirs = ${lighttpdValue([dir])}`,
    `server.tag = "lighttpd"`,
    `index-file.names = ${lighttpdValue(opts.indexFiles ?? ['index.php', 'index.html'])}`,
    'mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain", "" => "application/octet-stream" )'
  ]
  if (opts.streamResponseBody !== undefined) lines.push(`server.stream-response-body = ${opts.streamResponseBody}`)
  if (opts.streamRequestBody !== undefined) lines.push(`server.stream-request-body = ${opts.streamRequestBody}`)
  if (opts.fastcgiDebug !== undefined) lines.push(`fastcgi.debug = ${opts.fastcgiDebug}`)
  if (opts.mapExtensions !== undefined) lines.push(`fastcgi.map-extensions = ${lighttpdValue(opts.mapExtensions)}`)
  lines.push(`fastcgi.server = ${typeof opts.fastcgiServer === 'string' ? opts.fastcgiServer : renderFastcgiServer(opts.fastcgiServer)}`)
  if (opts.extraConfig !== undefined) lines.push(opts.extraConfig)
  const config = lines.join('\n') + '\n'
  const configFile = join(dir, 'lighttpd.conf')
  writeFileSync(configFile, config)
  const errorLog = (): string => { try { return readFileSync(errorLogFile, 'utf8') } catch { return '' } }
  const proc = spawnTracked(t, [bin, '-D', '-f', configFile], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  try {
    await waitForAddress({ kind: 'tcp', host: '127.0.0.1', port }, { proc, what: 'lighttpd' })
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- error.log ---\n${errorLog()}\n--- lighttpd.conf ---\n${config}`)
  }
  return { port, url: `http://127.0.0.1:${port}`, pid: proc.pid, proc, dir, configFile, config, errorLog }
}
