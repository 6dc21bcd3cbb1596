// Option values one by one: what kind each option is, and the checks that name the option's
// path and what is allowed.
import os from 'node:os'
import type { BalanceAlgorithm } from '../pool/types'
import { InvalidOptionError } from '../errors'
import { closestName } from '../did-you-mean'
import type { FastcgiHostOptions, FastcgiPluginOptions } from './options'

export type Kind = 'string' | 'boolean' | 'keepAlive' | 'count' | 'positiveCount' | 'port' | 'duration' | 'stringList' | 'stringMap' | 'argv' | 'signal' | 'mode' | 'balance' | 'function' | 'hooks' | 'startupCheck'

export const HOST_OPTIONS: Record<keyof FastcgiHostOptions, Kind> = {
  host: 'string',
  port: 'port',
  socket: 'string',
  listenBacklog: 'count',
  binPath: 'argv',
  binEnvironment: 'stringMap',
  binCopyEnvironment: 'stringList',
  killSignal: 'signal',
  checkLocal: 'boolean',
  mode: 'mode',
  docroot: 'string',
  minProcs: 'count',
  maxProcs: 'count',
  maxLoadPerProc: 'count',
  idleTimeout: 'duration',
  disableTime: 'duration',
  brokenScriptfilename: 'boolean',
  stripRequestUri: 'string',
  fixRootScriptname: 'boolean',
  xSendfile: 'boolean',
  allowXSendFile: 'boolean',
  xSendfileDocroot: 'stringList',
  tcpFinPropagate: 'boolean',
  connectTimeout: 'duration',
  writeTimeout: 'duration',
  sendTimeout: 'duration',
  readTimeout: 'duration',
  upgrade: 'boolean',
  keepAlive: 'keepAlive',
  keepAliveMaxIdle: 'count',
  keepAliveTimeout: 'duration',
  // 0 requests at a time would queue every request until queueTimeout
  maxConcurrency: 'positiveCount',
  requestBuffering: 'boolean',
  queueLimit: 'count',
  queueTimeout: 'duration',
  params: 'function'
}

export const PLUGIN_OPTIONS: Record<keyof FastcgiPluginOptions, Kind | 'object'> = {
  documentRoot: 'string',
  debug: 'boolean',
  balance: 'balance',
  mapExtensions: 'stringMap',
  indexFiles: 'stringList',
  server: 'object',
  // 0 bytes would turn every response into a 502
  headerLimit: 'positiveCount',
  serverSoftware: 'string',
  serverName: 'string',
  constraints: 'object',
  spoolMemoryLimit: 'count',
  spoolMemoryTotal: 'count',
  spoolDirectory: 'string',
  responseSpoolLimit: 'count',
  clientBodyTimeout: 'duration',
  closeGrace: 'duration',
  status: 'object',
  statusUrl: 'string',
  methods: 'stringList',
  onRequest: 'hooks',
  preValidation: 'hooks',
  preHandler: 'hooks',
  config: 'object',
  rewriteHeaders: 'function',
  onBackendResponse: 'function',
  remoteUser: 'function',
  startupCheck: 'startupCheck'
}

// Node's timers take at most 2^31-1 ms; beyond it they fire after 1 ms
export const MAX_DURATION = 2 ** 31 - 1

const BALANCE: readonly BalanceAlgorithm[] = ['fair', 'least-connection', 'round-robin', 'hash', 'sticky']

/** `bin-path` -> `binPath`, `allow-x-send-file` -> `allowXSendFile` */
export function camelCase (name: string): string {
  return name.replace(/[-_]+([a-zA-Z])/g, (_m, c: string) => c.toUpperCase())
}

/** `.binPath` for an identifier, `['.php']` otherwise: how the option is written in JavaScript. */
export function pathPart (key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `.${key}`
  return `['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function checkValue (where: string, kind: Kind, value: unknown): void {
  const fail = (expected: string): never => {
    throw new InvalidOptionError(`${where} must be ${expected}, got ${typeof value === 'function' ? 'a function' : JSON.stringify(value)}`)
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') fail('a string')
      return
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false')
      return
    case 'keepAlive':
      if (typeof value !== 'boolean' && value !== 'auto') fail("true, false or 'auto'")
      return
    case 'count':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        if (value !== Infinity) fail('a whole number >= 0')
      }
      return
    case 'positiveCount':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        if (value !== Infinity) fail('a whole number >= 1')
      }
      return
    case 'port':
      if (typeof value === 'string' && /^\d+$/.test(value.trim())) {
        fail(`a number, not a string: write port: ${Number(value)}`)
      }
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) fail('a port number from 1 to 65535')
      return
    case 'duration':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION) {
        fail(`a duration in milliseconds from 0 to ${MAX_DURATION} (about 24.8 days, the longest a Node timer waits)`)
      }
      return
    case 'stringList':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail('an array of strings')
      return
    case 'stringMap':
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) fail('an object of strings')
      return
    case 'argv':
      if (!(typeof value === 'string' && value.trim() !== '') && !(Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))) fail('a command line (a string, or an array of strings)')
      return
    case 'signal':
      if (!(typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65) && !(typeof value === 'string' && value in os.constants.signals)) fail('a signal name (SIGTERM) or number')
      return
    case 'mode':
      if (value !== 'responder' && value !== 'authorizer') fail("'responder' or 'authorizer'")
      return
    case 'balance':
      if (!BALANCE.includes(value as BalanceAlgorithm)) fail(BALANCE.map((b) => `'${b}'`).join(', '))
      return
    case 'function':
      if (typeof value !== 'function') fail('a function')
      return
    case 'hooks':
      if (typeof value !== 'function' && !(Array.isArray(value) && value.every((v) => typeof v === 'function'))) fail('a hook function or an array of them')
      return
    case 'startupCheck':
      if (value !== 'warn' && value !== 'fail' && value !== 'off') fail("'warn', 'fail' or 'off'")
  }
}

export function checkKnownKeys (where: string, value: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const best = closestName(camelCase(key), known)
      const hint = best === undefined ? ` (expected one of: ${known.join(', ')})` : `; did you mean ${best}?`
      throw new InvalidOptionError(`${where}${pathPart(key)} is not ${what}${hint}`)
    }
  }
}

export function warnIfSeconds (warnings: string[], where: string, value: number | undefined): void {
  if (value !== undefined && value > 0 && value < 100) {
    warnings.push(`${where} is ${value} ms; durations are in milliseconds (lighttpd's are seconds): did you mean ${value * 1000}?`)
  }
}
