// lighttpd's fastcgi.* settings -> the plugin's options. Host keys are camel-cased
// (`bin-path` -> binPath), seconds become milliseconds, "enable"/"disable" booleans,
// kill-signal numbers signal names, `server.document-root` documentRoot and
// `index-file.names` indexFiles. What the options cannot say comes back as an error with
// its file and line: conditionals, include_shell not run, unknown host keys (which lighttpd
// silently ignores). What was imported comes back too, each option with where it was set.
import os from 'node:os'
import type { FastcgiHostOptions, FastcgiMapping, FastcgiPluginOptions } from '../fastify/options'
import type { BalanceAlgorithm } from '../pool/types'
import { closestName } from '../did-you-mean'
import { evaluateConfig } from './config-syntax'
import type { ArrayEntry, ConfigError, ConfigValue, EvaluateOptions, Origin } from './config-syntax'

export type { ConfigError } from './config-syntax'

export interface LighttpdImport {
  /** The plugin's options; `server` is `{}` when the text has no fastcgi.server. */
  readonly options: FastcgiPluginOptions
  /** Everything that could not be imported, by file (main file first) and line. Empty: the import is complete. */
  readonly errors: ConfigError[]
  /** Each option that was built, with the lighttpd setting and where it was (last) set. */
  readonly imported: ImportedOption[]
}

export interface ImportedOption extends Origin {
  /** the plugin option's path: `server['.php']`, `documentRoot` */
  readonly option: string
  /** the lighttpd setting it came from: `fastcgi.server[".php"]`, `server.document-root` */
  readonly setting: string
}

type HostKind = 'string' | 'optionalString' | 'short' | 'int' | 'bool' | 'seconds' | 'shortSeconds' | 'stringList' | 'stringMap' | 'signal' | 'mode'

/** lighttpd 1.4.69 host keys (plus `upgrade` from later releases) and how their values convert. */
const HOST_KEYS: Readonly<Record<string, readonly [keyof FastcgiHostOptions, HostKind]>> = {
  host: ['host', 'optionalString'],
  port: ['port', 'short'],
  socket: ['socket', 'optionalString'],
  'listen-backlog': ['listenBacklog', 'int'],
  'bin-path': ['binPath', 'optionalString'],
  'bin-environment': ['binEnvironment', 'stringMap'],
  'bin-copy-environment': ['binCopyEnvironment', 'stringList'],
  'kill-signal': ['killSignal', 'signal'],
  'check-local': ['checkLocal', 'bool'],
  mode: ['mode', 'mode'],
  docroot: ['docroot', 'optionalString'],
  'min-procs': ['minProcs', 'short'],
  'max-procs': ['maxProcs', 'short'],
  'max-load-per-proc': ['maxLoadPerProc', 'short'],
  'idle-timeout': ['idleTimeout', 'shortSeconds'],
  'disable-time': ['disableTime', 'shortSeconds'],
  'broken-scriptfilename': ['brokenScriptfilename', 'bool'],
  'strip-request-uri': ['stripRequestUri', 'string'],
  'fix-root-scriptname': ['fixRootScriptname', 'bool'],
  'allow-x-send-file': ['allowXSendFile', 'bool'],
  'x-sendfile': ['xSendfile', 'bool'],
  'x-sendfile-docroot': ['xSendfileDocroot', 'stringList'],
  'tcp-fin-propagate': ['tcpFinPropagate', 'bool'],
  'connect-timeout': ['connectTimeout', 'seconds'],
  'write-timeout': ['writeTimeout', 'seconds'],
  'read-timeout': ['readTimeout', 'seconds'],
  upgrade: ['upgrade', 'bool']
}

const BALANCE: readonly BalanceAlgorithm[] = ['fair', 'least-connection', 'round-robin', 'hash', 'sticky']
const STRUCTURE = 'expected ( "ext" => ( "backend-label" => ( "key" => "value" ) ) ) or ( "ext" => ( ( "key" => "value" ) ) )'

class ImportError extends Error {
  readonly origin: Origin
  constructor (where: Origin, message: string) {
    super(message)
    this.origin = originOf(where)
  }
}

/** Only the line and file of something that has them (a value, an entry). */
function originOf (where: Origin): Origin {
  return where.file === undefined ? { line: where.line } : { line: where.line, file: where.file }
}

function kindName (value: ConfigValue): string {
  return value.kind === 'array' ? 'a ( ... ) list' : value.kind === 'integer' ? `the number ${value.value}` : `the string ${JSON.stringify(value.value)}`
}

function suggestHostKey (key: string): string {
  const dashed = key.toLowerCase().replace(/_/g, '-').replace(/([a-z])([A-Z])/g, '$1-$2')
  const fromCamel = key.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()
  for (const candidate of [dashed, fromCamel]) {
    if (candidate in HOST_KEYS) return `; did you mean "${candidate}"?`
  }
  const best = closestName(dashed, Object.keys(HOST_KEYS))
  return best === undefined ? '' : `; did you mean "${best}"?`
}

function toInteger (where: string, value: ConfigValue, max: number): number {
  if (value.kind === 'integer') {
    if (value.value > max) throw new ImportError(value, `${where} must be a number from 0 to ${max}, got ${value.value}`)
    return value.value
  }
  if (value.kind === 'string' && /^[0-9]+$/.test(value.value.trim())) {
    const n = Number.parseInt(value.value.trim(), 10)
    if (n > max) throw new ImportError(value, `${where} must be a number from 0 to ${max}, got ${n}`)
    return n
  }
  throw new ImportError(value, `${where} must be a number, got ${kindName(value)}`)
}

function toBoolean (where: string, value: ConfigValue): boolean {
  if (value.kind === 'integer') return value.value !== 0
  if (value.kind === 'string') {
    const v = value.value.toLowerCase()
    if (['enable', 'enabled', 'true', '1'].includes(v)) return true
    if (['disable', 'disabled', 'false', '0'].includes(v)) return false
  }
  throw new ImportError(value, `${where} must be "enable" or "disable", got ${kindName(value)}`)
}

function toStringValue (where: string, value: ConfigValue): string {
  if (value.kind !== 'string') throw new ImportError(value, `${where} must be a string, got ${kindName(value)}`)
  return value.value
}

function toStringList (where: string, value: ConfigValue): string[] {
  if (value.kind !== 'array') throw new ImportError(value, `${where} must be a list of strings ( "a", "b" ), got ${kindName(value)}`)
  return value.entries.map((entry, i) => {
    if (entry.key !== undefined) throw new ImportError(entry, `${where} must be a list of strings without keys, got "${entry.key}" => ...`)
    return toStringValue(`${where}[${i}]`, entry.value)
  })
}

function toStringMap (where: string, value: ConfigValue): Record<string, string> {
  if (value.kind !== 'array') throw new ImportError(value, `${where} must be a list of "name" => "value" pairs, got ${kindName(value)}`)
  const map: Record<string, string> = {}
  for (const entry of value.entries) {
    if (entry.key === undefined) throw new ImportError(entry, `${where} must be a list of "name" => "value" pairs, got an entry without a name`)
    map[entry.key] = toStringValue(`${where}["${entry.key}"]`, entry.value)
  }
  return map
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>()
for (const [name, number] of Object.entries(os.constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name as NodeJS.Signals)
}

function toSignal (where: string, value: ConfigValue): NodeJS.Signals {
  const n = toInteger(where, value, 65535)
  const name = SIGNAL_NAMES.get(n)
  if (name === undefined) throw new ImportError(value, `${where} ${n} is not a signal number on this system`)
  return name
}

function convertHostValue (where: string, kind: HostKind, value: ConfigValue): FastcgiHostOptions[keyof FastcgiHostOptions] | undefined {
  switch (kind) {
    case 'string': return toStringValue(where, value)
    case 'optionalString': {
      // lighttpd: a blank string is the same as not setting the key
      const s = toStringValue(where, value)
      return s.trim() === '' ? undefined : s
    }
    case 'short': return toInteger(where, value, 65535)
    case 'int': return toInteger(where, value, 2 ** 31 - 1)
    case 'bool': return toBoolean(where, value)
    case 'seconds': return toInteger(where, value, 2 ** 31 - 1) * 1000
    case 'shortSeconds': return toInteger(where, value, 65535) * 1000
    case 'stringList': return toStringList(where, value)
    case 'stringMap': return toStringMap(where, value)
    case 'signal': return toSignal(where, value)
    case 'mode': {
      const mode = toStringValue(where, value)
      if (mode !== 'responder' && mode !== 'authorizer') throw new ImportError(value, `${where} must be "responder" or "authorizer", got ${JSON.stringify(mode)} (lighttpd would fall back to responder)`)
      return mode
    }
  }
}

function convertHost (where: string, entry: ArrayEntry, errors: ConfigError[]): FastcgiHostOptions | undefined {
  const value = entry.value
  if (value.kind !== 'array' || value.entries.some((e) => e.key === undefined)) {
    errors.push({ ...originOf(entry), message: `${where}: unexpected ${kindName(value)}; ${STRUCTURE}` })
    return undefined
  }
  const host: Record<string, unknown> = {}
  for (const option of value.entries) {
    const key = option.key as string
    const known = HOST_KEYS[key]
    if (known === undefined) {
      const underscore = key.includes('_') ? ' (lighttpd host keys use dashes, not underscores)' : ''
      errors.push({ ...originOf(option), message: `${where}: unknown host key "${key}"${underscore}${suggestHostKey(key)}; lighttpd would ignore it silently` })
      continue
    }
    const [name, kind] = known
    try {
      const converted = convertHostValue(`${where}["${key}"]`, kind, option.value)
      if (converted !== undefined) host[name] = converted
    } catch (err) {
      if (!(err instanceof ImportError)) throw err
      errors.push({ ...err.origin, message: err.message })
    }
  }
  return host as FastcgiHostOptions
}

/** A key as the plugin's option paths write it: `server['.php']`. */
function quoteKey (key: string): string {
  return `'${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function convertServer (value: ConfigValue, errors: ConfigError[], imported: ImportedOption[]): Record<string, FastcgiMapping> {
  const server: Record<string, FastcgiMapping> = {}
  if (value.kind !== 'array') {
    errors.push({ ...originOf(value), message: `fastcgi.server must be a ( ... ) list, got ${kindName(value)}; ${STRUCTURE}` })
    return server
  }
  for (const mapping of value.entries) {
    if (mapping.key === undefined) {
      errors.push({ ...originOf(mapping), message: `fastcgi.server: an entry without an extension or prefix; ${STRUCTURE}` })
      continue
    }
    const where = `fastcgi.server["${mapping.key}"]`
    const hosts = mapping.value
    if (hosts.kind !== 'array' || hosts.entries.length === 0) {
      errors.push({ ...originOf(mapping), message: `${where} must list at least one backend, got ${kindName(hosts)}; ${STRUCTURE}` })
      continue
    }
    const labelled = hosts.entries.filter((e) => e.key !== undefined)
    if (labelled.length > 0 && labelled.length < hosts.entries.length) {
      errors.push({ ...originOf(hosts), message: `${where} mixes named ("label" => ( ... )) and unnamed (( ... )) backends; the plugin takes either a list or named backends: name them all` })
      continue
    }
    // `".php" => ( "host" => "..." )`: host options directly under the extension
    const direct = labelled.find((e) => e.value.kind !== 'array')
    if (direct !== undefined) {
      errors.push({ ...originOf(direct), message: `${where}: unexpected value for "${direct.key as string}" (${kindName(direct.value)}); the host options need their own ( ... ): ${STRUCTURE}` })
      continue
    }
    if (labelled.length > 0) {
      const named: Record<string, FastcgiHostOptions> = {}
      for (const entry of hosts.entries) {
        const host = convertHost(`${where}["${entry.key as string}"]`, entry, errors)
        if (host !== undefined) named[entry.key as string] = host
      }
      server[mapping.key] = named
      imported.push({ option: `server[${quoteKey(mapping.key)}]`, setting: where, ...originOf(mapping) })
    } else {
      const list: FastcgiHostOptions[] = []
      hosts.entries.forEach((entry, i) => {
        const host = convertHost(`${where}[${i}]`, entry, errors)
        if (host !== undefined) list.push(host)
      })
      server[mapping.key] = list
      imported.push({ option: `server[${quoteKey(mapping.key)}]`, setting: where, ...originOf(mapping) })
    }
  }
  return server
}

/**
 * Imports lighttpd's fastcgi.server, fastcgi.balance, fastcgi.debug, fastcgi.map-extensions,
 * server.document-root and index-file.names. Other settings are evaluated (they may be
 * variables) and otherwise left alone. Never throws on bad input: problems are in `errors`.
 * A text has no directory to resolve `include` against: import a file with parseLighttpdFile
 * (`fastify-fastcgi/lighttpd`) to follow includes.
 */
export function parseLighttpdConfig (text: string): LighttpdImport {
  return importConfig(text, {})
}

/** The import of a text evaluated with `evaluateOptions` (a file name, an include host). */
export function importConfig (text: string, evaluateOptions: EvaluateOptions): LighttpdImport {
  const { settings, errors, files } = evaluateConfig(text, evaluateOptions)
  const options: FastcgiPluginOptions = { server: {} }
  const imported: ImportedOption[] = []
  const attempt = (option: keyof FastcgiPluginOptions, setting: string, convert: (value: ConfigValue) => void): void => {
    const found = settings.get(setting)
    if (found === undefined) return
    try {
      convert(found.value)
      imported.push({ option, setting, ...originOf(found) })
    } catch (err) {
      if (!(err instanceof ImportError)) throw err
      errors.push({ ...err.origin, message: err.message })
    }
  }
  const server = settings.get('fastcgi.server')
  if (server !== undefined) options.server = convertServer(server.value, errors, imported)
  attempt('balance', 'fastcgi.balance', (value) => {
    const b = toStringValue('fastcgi.balance', value)
    if (!BALANCE.includes(b as BalanceAlgorithm)) {
      throw new ImportError(value, `fastcgi.balance must be one of ${BALANCE.join(', ')}, got ${JSON.stringify(b)} (lighttpd would log an error and use least-connection)`)
    }
    options.balance = b as BalanceAlgorithm
  })
  attempt('debug', 'fastcgi.debug', (value) => { options.debug = toInteger('fastcgi.debug', value, 65535) > 0 })
  attempt('mapExtensions', 'fastcgi.map-extensions', (value) => { options.mapExtensions = toStringMap('fastcgi.map-extensions', value) })
  attempt('documentRoot', 'server.document-root', (value) => { options.documentRoot = toStringValue('server.document-root', value) })
  attempt('indexFiles', 'index-file.names', (value) => { options.indexFiles = toStringList('index-file.names', value) })
  // by file in the order they were opened (the main file first), then by line
  const rank = (origin: Origin): number => origin.file === undefined ? 0 : Math.max(0, files.indexOf(origin.file))
  const byPlace = (a: Origin, b: Origin): number => rank(a) - rank(b) || a.line - b.line
  errors.sort(byPlace)
  imported.sort(byPlace)
  return { options, errors, imported }
}
