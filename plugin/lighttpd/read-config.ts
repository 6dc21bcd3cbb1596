// Importing a lighttpd configuration file the way lighttpd reads it: `include` follows files
// and globs (conf-enabled/*.conf), and `include_shell` runs its command only when asked.
// lighttpd resolves a relative include against the directory of the main configuration file
// (not of the including file), except paths starting with ./ or ../ (the working directory);
// a glob that matches nothing is no error, a missing plain file is. include_shell runs the
// command with /bin/sh -c in that same directory and parses what it prints.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { IncludeFailure } from './config-syntax'
import type { ConfigSource, IncludeHost } from './config-syntax'
import { importConfig } from './parse-config'
import type { LighttpdImport } from './parse-config'

export interface LighttpdFileOptions {
  /**
   * A directory that absolute include paths are taken under, as in a chroot: with root
   * `/tmp/copy`, `include "/etc/lighttpd/conf-enabled/*.conf"` reads
   * `/tmp/copy/etc/lighttpd/conf-enabled/*.conf`. For a copy of a server's configuration, or an
   * image's root file system. include_shell commands are run as written.
   */
  root?: string
  /** Run include_shell commands (lighttpd runs them at every start); off: they are reported. */
  runIncludeShell?: boolean
  /** How long an include_shell command may run, in ms (10000). */
  includeShellTimeout?: number
}

const GLOB_CHARS = /[*?[\]{}]/

/** `{a,b}` alternatives expanded (nested braces too), as glob(3) with GLOB_BRACE does. */
function expandBraces (pattern: string): string[] {
  const open = pattern.indexOf('{')
  if (open < 0) return [pattern]
  let depth = 0
  const commas: number[] = []
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '{') depth++
    else if (c === ',' && depth === 1) commas.push(i)
    else if (c === '}' && --depth === 0) {
      const bounds = [open, ...commas, i]
      const rest = pattern.slice(i + 1)
      return bounds.slice(1).flatMap((end, k) => expandBraces(pattern.slice(0, open) + pattern.slice((bounds[k] as number) + 1, end) + rest))
    }
  }
  return [pattern]
}

/** One path segment's glob (`*`, `?`, `[...]`) as a regular expression. */
function segmentPattern (segment: string): RegExp {
  let source = ''
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string
    if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2)
      if (close < 0) { source += '\\['; continue }
      const body = segment.slice(i + 1, close)
      source += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`
      i = close
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** The paths a glob matches, sorted as glob(3) sorts them; a leading dot is only matched by a dot. */
function globPaths (pattern: string): string[] {
  const found: string[] = []
  for (const alternative of expandBraces(pattern)) {
    const segments = alternative.split('/')
    let bases = [segments[0] === '' ? '/' : '.']
    for (const [index, segment] of segments.entries()) {
      if (index === 0 && segment === '') continue
      if (!GLOB_CHARS.test(segment)) {
        bases = bases.map((base) => path.join(base, segment))
        continue
      }
      const matcher = segmentPattern(segment)
      bases = bases.flatMap((base) => {
        let names: string[]
        try { names = readdirSync(base) } catch { return [] }
        return names.filter((name) => matcher.test(name) && (!name.startsWith('.') || segment.startsWith('.'))).map((name) => path.join(base, name))
      })
    }
    found.push(...bases)
  }
  return [...new Set(found)].sort()
}

class FileIncludeHost implements IncludeHost {
  constructor (private readonly baseDir: string, private readonly options: LighttpdFileOptions) {}

  include (target: string): ConfigSource[] {
    const relativeToCwd = target.startsWith('./') || target.startsWith('../')
    let resolved: string
    if (path.isAbsolute(target)) resolved = this.options.root === undefined ? target : path.join(this.options.root, target)
    else resolved = relativeToCwd ? path.resolve(target) : path.join(this.baseDir, target)
    if (!GLOB_CHARS.test(resolved)) return [readSource(resolved)]
    return globPaths(resolved).map(readSource)
  }

  includeShell (command: string): ConfigSource | undefined {
    if (this.options.runIncludeShell !== true) return undefined
    const run = spawnSync('/bin/sh', ['-c', command], { cwd: this.baseDir, encoding: 'utf8', timeout: this.options.includeShellTimeout ?? 10_000, maxBuffer: 16 * 1024 * 1024 })
    if (run.error !== undefined) throw new IncludeFailure(`could not be run: ${run.error.message}`)
    if (run.status !== 0) throw new IncludeFailure(`exited with ${run.status ?? run.signal ?? 'an error'}${run.stderr.trim() === '' ? '' : `: ${run.stderr.trim().split('\n')[0] ?? ''}`}`)
    return { file: `include_shell ${JSON.stringify(command)}`, text: run.stdout }
  }
}

function readSource (file: string): ConfigSource {
  try {
    if (statSync(file).isDirectory()) throw new IncludeFailure(`${file} is a directory`)
    return { file, text: readFileSync(file, 'utf8') }
  } catch (err) {
    if (err instanceof IncludeFailure) throw err
    const code = (err as NodeJS.ErrnoException).code
    throw new IncludeFailure(code === 'ENOENT' ? `include file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}`)
  }
}

/**
 * Imports a lighttpd configuration file as plugin options, following `include` and, with
 * `runIncludeShell`, `include_shell`. Errors and imported options carry their file and line.
 * Throws only when the main file cannot be read.
 */
export function parseLighttpdFile (file: string, options: LighttpdFileOptions = {}): LighttpdImport {
  const text = readFileSync(file, 'utf8')
  return importConfig(text, { file, host: new FileIncludeHost(path.dirname(path.resolve(file)), options) })
}

/** The same for a text read elsewhere (stdin): includes resolve against `baseDir`. */
export function parseLighttpdText (text: string, name: string, baseDir: string, options: LighttpdFileOptions = {}): LighttpdImport {
  return importConfig(text, { file: name, host: new FileIncludeHost(baseDir, options) })
}
