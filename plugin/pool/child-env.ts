// What a spawned backend gets besides its socket: argv, working directory, environment
// (lighttpd reference §7.1–7.2).
import path from 'node:path'

/**
 * lighttpd splits bin-path on every space or tab, so two separators make an empty argument;
 * we split on runs of whitespace instead, since an empty argv element is never what was meant.
 */
export function parseBinPath (binPath: string | readonly string[]): string[] {
  if (typeof binPath !== 'string') return [...binPath]
  return binPath.split(/[ \t]+/).filter((part) => part !== '')
}

export interface ChildCommand {
  /** absolute, so that it does not depend on the cwd the child is given */
  readonly file: string
  readonly args: string[]
  readonly cwd: string
}

/** No shell and no PATH search: argv[0] is a path, resolved against our own cwd. */
export function childCommand (argv: readonly string[]): ChildCommand {
  const [first, ...args] = argv
  if (first === undefined || first === '') throw new Error('binPath is empty')
  const file = path.resolve(first)
  return { file, args, cwd: path.dirname(file) }
}

/**
 * binCopyEnvironment (when given) starts from nothing and copies only the listed names;
 * binEnvironment then adds or overrides. PHP_FCGI_CHILDREN defaults to 1 (as lighttpd): php-cgi then
 * runs a master that replaces its worker when the worker retires after PHP_FCGI_MAX_REQUESTS
 * (500), instead of the whole backend exiting and waiting for our respawn.
 */
export function childEnvironment (
  parent: NodeJS.ProcessEnv,
  binCopyEnvironment: readonly string[] | undefined,
  binEnvironment: Readonly<Record<string, string>> | undefined
): Record<string, string> {
  const env: Record<string, string> = {}
  const names = binCopyEnvironment ?? Object.keys(parent)
  for (const name of names) {
    const value = parent[name]
    if (value !== undefined) env[name] = value
  }
  if (binEnvironment !== undefined) Object.assign(env, binEnvironment)
  if (env.PHP_FCGI_CHILDREN === undefined) env.PHP_FCGI_CHILDREN = '1'
  return env
}
