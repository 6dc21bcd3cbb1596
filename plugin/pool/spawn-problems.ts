// How a start-up or respawn failure is put to the person who wrote the configuration, and the
// small waits the supervision uses (bounded, never keeping the event loop alive).
import fs from 'node:fs'
import path from 'node:path'
import { formatAddress, type BackendAddress } from '../client/address'

/** A start-up or respawn problem, worded for the person who wrote the configuration. */
export class SpawnProblem extends Error {}

function errorCode (err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

export function describeExit (code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`
}

export function delay (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves true when `promise` settles within `ms`, false otherwise; never keeps the loop alive. */
export async function within (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The first executable `name` in PATH, for a binPath written as a bare command name. */
function findInPath (name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {}
  }
  return undefined
}

/** `file` is binPath's program resolved against the working directory; `given` as written. */
export async function checkExecutable (file: string, given: string = file): Promise<void> {
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(file)
  } catch (err) {
    const code = errorCode(err)
    if (code !== 'ENOENT') throw new SpawnProblem(`cannot inspect ${file} (${code ?? String(err)})`)
    const found = given.includes('/') ? undefined : findInPath(given)
    throw new SpawnProblem(found !== undefined
      ? `${file} does not exist: binPath is not looked up in PATH; write binPath: '${found}'`
      : `${file} does not exist: expected binPath to start with the absolute path of the FastCGI program (such as '/usr/bin/php-cgi')`)
  }
  if (!stat.isFile()) throw new SpawnProblem(`${file} is not a regular file: expected binPath to start with the FastCGI program itself`)
  try {
    await fs.promises.access(file, fs.constants.X_OK)
  } catch {
    throw new SpawnProblem(`${file} is not executable: make it executable (chmod +x ${file}) or put its interpreter first (binPath: ['/usr/bin/perl', '${file}'])`)
  }
}

export function describeListenError (err: unknown, address: BackendAddress): string {
  const code = errorCode(err)
  // libuv reports a missing directory as EACCES when binding a unix socket
  if (address.kind === 'unix' && (code === 'EACCES' || code === 'ENOENT') && !fs.existsSync(path.dirname(address.path))) {
    return `cannot listen on ${formatAddress(address)}: the directory does not exist`
  }
  return describeListenCode(code, err, formatAddress(address))
}

function describeListenCode (code: string | undefined, err: unknown, address: string): string {
  switch (code) {
    case 'EADDRINUSE': return `${address} is already in use`
    case 'EACCES': return `permission denied to listen on ${address}`
    case 'EADDRNOTAVAIL': return `cannot listen on ${address}: not a local address`
    case 'ENOENT': return `cannot listen on ${address}: the directory does not exist`
    default: return `cannot listen on ${address}: ${err instanceof Error ? err.message : String(err)}`
  }
}
