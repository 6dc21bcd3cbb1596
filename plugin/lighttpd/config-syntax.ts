// lighttpd's configuration language: assignments (`=`, `+=`, `:=`), strings, integers, arrays
// `( ... )` with or without `key =>`, string and array concatenation with `+`, `var.` variables
// and bare references, comments and trailing commas, conditionals with every operator lighttpd
// accepts (==, !=, =~, !~, =^, =$; `if`, `else`, `elif`/`elsif`/`elseif`), `global { ... }`,
// and `include` / `include_shell`, which the caller resolves (an IncludeHost: this file reads
// no files and runs nothing). Conditionals cannot be evaluated without a request: one holding
// fastcgi settings is reported as an error, with the file and line; `env.` likewise.

import { SyntaxError, describeToken, tokenize } from './config-tokens'
import type { Token } from './config-tokens'

/** Where something is: a 1-based line, and the file when the text came from one. */
export interface Origin {
  readonly line: number
  /** the file (or `include_shell "command"`); absent for a text given without a name */
  readonly file?: string
}

export interface ConfigError extends Origin {
  readonly message: string
}

export type ConfigValue =
  | { readonly kind: 'string', readonly value: string, readonly line: number, readonly file?: string }
  | { readonly kind: 'integer', readonly value: number, readonly line: number, readonly file?: string }
  | { readonly kind: 'array', readonly entries: readonly ArrayEntry[], readonly line: number, readonly file?: string }

export interface ArrayEntry extends Origin {
  /** undefined for an entry without `key =>` */
  readonly key: string | undefined
  readonly value: ConfigValue
}

/** A top-level setting after evaluation; its origin is where it was (last) assigned. */
export interface Setting extends Origin {
  readonly value: ConfigValue
}

export interface EvaluatedConfig {
  /** global settings by name (`fastcgi.server`, `var.x`, ...) */
  readonly settings: ReadonlyMap<string, Setting>
  readonly errors: ConfigError[]
  /** the files read, main file first, then included ones in the order they were opened */
  readonly files: string[]
}

/** A configuration text to parse in place of an include or include_shell. */
export interface ConfigSource {
  /** its name in errors: the file's path, or `include_shell "command"` */
  readonly file: string
  readonly text: string
}

/** Thrown by an IncludeHost: the message goes into the errors at the include's line. */
export class IncludeFailure extends Error {}

/** Resolves include and include_shell for the parser. */
export interface IncludeHost {
  /** the files `include "path"` names, in lighttpd's order (none for a glob without matches) */
  include (path: string): ConfigSource[]
  /** the output of `include_shell "command"`, or undefined when commands are not run */
  includeShell (command: string): ConfigSource | undefined
}

export interface EvaluateOptions {
  /** the text's file name, for errors */
  file?: string
  /** without one, include and include_shell are reported, not followed */
  host?: IncludeHost
}

const MAX_INCLUDE_DEPTH = 16
const CONDITION_OPERATORS = ['==', '!=', '=~', '!~', '=^', '=$']
const ELSE_KEYWORDS = ['else', 'elif', 'elsif', 'elseif']

/** The settings the import reads: a conditional block holding one of them cannot be imported. */
function isImported (name: string): boolean {
  return name.startsWith('fastcgi.') || name === 'server.document-root' || name === 'index-file.names'
}

function at (line: number, file: string | undefined): Origin {
  return file === undefined ? { line } : { line, file }
}

/** Variables and settings of one scope; a conditional block gets a child scope that is thrown away. */
class Scope {
  readonly settings = new Map<string, Setting>()
  constructor (readonly parent: Scope | undefined) {}

  lookup (name: string): Setting | undefined {
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) {
      const found = s.settings.get(name)
      if (found !== undefined) return found
    }
    return undefined
  }
}

/** Names that lighttpd stores as `var.NAME` when assigned or referenced without a dot. */
function storedName (name: string): string {
  return name.includes('.') ? name : `var.${name}`
}

interface ParseContext {
  readonly file: string | undefined
  readonly host: IncludeHost | undefined
  readonly errors: ConfigError[]
  readonly files: string[]
  readonly depth: number
}

class Parser {
  private pos = 0

  constructor (private readonly tokens: Token[], private readonly context: ParseContext) {}

  get errors (): ConfigError[] { return this.context.errors }

  private origin (line: number): Origin {
    return at(line, this.context.file)
  }

  private report (line: number, message: string, file = this.context.file): void {
    this.errors.push({ ...at(line, file), message })
  }

  private peek (offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token
  }

  private next (): Token {
    const token = this.peek()
    if (this.pos < this.tokens.length - 1) this.pos++
    return token
  }

  private isOp (text: string, offset = 0): boolean {
    const token = this.peek(offset)
    return token.type === 'op' && token.text === text
  }

  private expectOp (text: string, context: string): Token {
    const token = this.next()
    if (token.type !== 'op' || token.text !== text) {
      throw new SyntaxError(token.line, `expected '${text}' ${context}, found ${describeToken(token)}`)
    }
    return token
  }

  /** Parses statements until '}' (inside a block) or the end; errors in one statement skip to the next line. */
  parseStatements (scope: Scope, inBlock: boolean): void {
    for (;;) {
      const token = this.peek()
      if (token.type === 'eof') {
        if (inBlock) throw new SyntaxError(token.line, "a '{' block is not closed with '}'")
        return
      }
      if (inBlock && this.isOp('}')) return
      try {
        this.parseStatement(scope)
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err
        this.report(err.line, err.message, err.file ?? this.context.file)
        if (!this.recover(err.line)) return
      }
    }
  }

  /** Skips to the first token of a later line at bracket depth 0, or to the '}' closing the enclosing block; false at the end. */
  private recover (line: number): boolean {
    let depth = 0
    for (;;) {
      const token = this.peek()
      if (token.type === 'eof') return false
      if (token.line > line && depth <= 0 && (token.type === 'name' || token.type === 'condition')) return true
      if (depth <= 0 && token.type === 'op' && token.text === '}') return true
      // a block the failed statement opened ('$HTTP["x"] = "y" {') is skipped with it
      if (token.type === 'op' && (token.text === '(' || token.text === '[' || token.text === '{')) depth++
      if (token.type === 'op' && (token.text === ')' || token.text === ']' || token.text === '}')) depth--
      this.next()
    }
  }

  private parseStatement (scope: Scope): void {
    let token = this.next()
    // `if $HTTP[...]`: lighttpd ignores an `if` right before a condition
    if (token.type === 'name' && token.text === 'if' && this.peek().type === 'condition') token = this.next()
    if (token.type === 'condition') {
      this.parseConditional(token, scope)
      return
    }
    if (token.type === 'name' && (token.text === 'include' || token.text === 'include_shell')) {
      this.parseInclude(token, scope)
      return
    }
    if (token.type === 'name' && token.text === 'global' && this.isOp('{')) {
      // `global { ... }` is the global scope written as a block
      this.next()
      this.parseStatements(scope, true)
      this.expectOp('}', 'to close global { ... }')
      return
    }
    if (token.type !== 'name') {
      throw new SyntaxError(token.line, `expected a setting name (like fastcgi.server), found ${describeToken(token)}`)
    }
    const op = this.next()
    if (op.type !== 'op' || (op.text !== '=' && op.text !== '+=' && op.text !== ':=')) {
      throw new SyntaxError(op.line, `expected '=', '+=' or ':=' after ${token.text}, found ${describeToken(op)}`)
    }
    const value = this.parseExpression(scope)
    this.assign(scope, token, op.text, value)
  }

  private assign (scope: Scope, name: Token, op: string, value: ConfigValue): void {
    if (name.text.startsWith('env.')) throw new SyntaxError(name.line, `${name.text}: environment variables cannot be set in the configuration`)
    const key = storedName(name.text)
    const existing = scope.settings.get(key)
    if (op === '=') {
      if (existing !== undefined) {
        throw new SyntaxError(name.line, `${name.text} is already set at ${existing.file !== undefined && existing.file !== this.context.file ? `${existing.file}:` : 'line '}${existing.line}; use += to add to it or := to replace it`)
      }
      scope.settings.set(key, { value, ...this.origin(name.line) })
    } else if (op === ':=') {
      scope.settings.set(key, { value, ...this.origin(name.line) })
    } else {
      const base = existing ?? (scope.parent !== undefined ? scope.lookup(key) : undefined)
      scope.settings.set(key, { value: base === undefined ? value : concat(base.value, value, name.line), ...this.origin(name.line) })
    }
  }

  private parseConditional (start: Token, scope: Scope): void {
    // $HTTP["url"] =~ "^/x" { ... } [ else $HTTP[...] ... { ... } ] [ else { ... } ]
    let description = start.text
    if (this.isOp('[')) {
      this.next()
      const field = this.next()
      this.expectOp(']', `after ${start.text}[${JSON.stringify(field.text)}`)
      description += `["${field.text}"]`
    }
    const op = this.next()
    if (op.type !== 'op' || !CONDITION_OPERATORS.includes(op.text)) {
      throw new SyntaxError(op.line, `expected a condition operator (${CONDITION_OPERATORS.join(' ')}) after ${description}, found ${describeToken(op)}`)
    }
    const operand = this.parseExpression(scope)
    description += ` ${op.text} ${operand.kind === 'array' ? '( ... )' : `"${operand.value}"`}`
    this.expectOp('{', `after the condition ${description}`)
    this.parseBlock(scope, start.line, `conditional block ${description} { ... }`, `to close ${description} { ... }`)
    if (this.peek().type === 'name' && ELSE_KEYWORDS.includes(this.peek().text)) {
      this.next()
      if (this.peek().type === 'name' && this.peek().text === 'if') this.next()
      const after = this.peek()
      if (after.type === 'condition') {
        this.next()
        this.parseConditional(after, scope)
      } else {
        const open = this.expectOp('{', "after 'else'")
        this.parseBlock(scope, open.line, 'else { ... } block', 'to close else { ... }')
      }
    }
  }

  /**
   * A conditional's block, in a scope of its own. Settings the import reads inside it cannot
   * become plugin options: one error, at the block's line, names them. A block without any
   * (mimetypes, a socket's ssl.engine) is no loss to the import and no error.
   */
  private parseBlock (scope: Scope, line: number, what: string, closing: string): void {
    const inner = new Scope(scope)
    const errorsBefore = this.errors.length
    this.parseStatements(inner, true)
    this.expectOp('}', closing)
    const lost = [...inner.settings.entries()]
      .filter(([name]) => isImported(name))
      .map(([name, setting]) => `${name} at ${setting.file !== undefined && setting.file !== this.context.file ? `${setting.file}:` : 'line '}${setting.line}`)
    if (lost.length === 0) return
    this.errors.splice(errorsBefore, 0, {
      ...this.origin(line),
      message: `${what} cannot be expressed as plugin options: ${lost.join(', ')} inside it was not imported (register the plugin in a Fastify context with route constraints, or use a prefix key)`
    })
  }

  /** `include EXPR` and `include_shell EXPR`: the host reads the files or runs the command. */
  private parseInclude (keyword: Token, scope: Scope): void {
    const value = this.parseExpression(scope)
    if (value.kind === 'array') throw new SyntaxError(keyword.line, `${keyword.text} takes a string, found a ( ... ) list`)
    const target = String(value.value)
    const host = this.context.host
    const quoted = `${keyword.text} ${JSON.stringify(target)}`
    let sources: ConfigSource[]
    try {
      if (keyword.text === 'include') {
        if (host === undefined) {
          this.report(keyword.line, `${quoted} is not followed in a text import: import the file itself (parseLighttpdFile, or fastify-fastcgi check FILE), which follows includes`)
          return
        }
        sources = host.include(target)
      } else {
        const output = host?.includeShell(target)
        if (output === undefined) {
          this.report(keyword.line, `${quoted} was not run, so what it prints is not imported: run it with --run-include-shell (runIncludeShell: true), or paste its output`)
          return
        }
        sources = [output]
      }
    } catch (err) {
      if (!(err instanceof IncludeFailure)) throw err
      this.report(keyword.line, `${quoted}: ${err.message}`)
      return
    }
    for (const source of sources) this.parseSource(source, scope, keyword.line)
  }

  private parseSource (source: ConfigSource, scope: Scope, line: number): void {
    if (this.context.depth >= MAX_INCLUDE_DEPTH) {
      this.report(line, `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels at ${source.file} (does a file include itself?)`)
      return
    }
    if (!this.context.files.includes(source.file)) this.context.files.push(source.file)
    let tokens: Token[]
    try {
      tokens = tokenize(source.text)
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err
      this.report(err.line, err.message, source.file)
      return
    }
    new Parser(tokens, { ...this.context, file: source.file, depth: this.context.depth + 1 }).parseStatements(scope, false)
  }

  private parseExpression (scope: Scope): ConfigValue {
    let value = this.parseValue(scope)
    while (this.isOp('+')) {
      const plus = this.next()
      const right = this.parseValue(scope)
      value = concat(value, right, plus.line)
    }
    return value
  }

  private parseValue (scope: Scope): ConfigValue {
    const token = this.next()
    switch (token.type) {
      case 'string':
        return { kind: 'string', value: token.text, ...this.origin(token.line) }
      case 'integer':
        return { kind: 'integer', value: Number.parseInt(token.text, 10), ...this.origin(token.line) }
      case 'name': {
        if (token.text.startsWith('env.')) {
          throw new SyntaxError(token.line, `${token.text}: environment variables are not read when importing (write the value instead)`)
        }
        const found = scope.lookup(token.text) ?? scope.lookup(storedName(token.text))
        if (found === undefined) {
          throw new SyntaxError(token.line, `undefined variable ${token.text} (set it first: var.${token.text.replace(/^var\./, '')} = ...)`)
        }
        return relocate(found.value, this.origin(token.line))
      }
      case 'op':
        if (token.text === '(') return this.parseArray(token, scope)
        break
      default:
        break
    }
    throw new SyntaxError(token.line, `expected a value (a string, a number, a ( ... ) list or a variable), found ${describeToken(token)}`)
  }

  private parseArray (open: Token, scope: Scope): ConfigValue {
    const entries: ArrayEntry[] = []
    const keys = new Map<string, number>()
    for (;;) {
      if (this.isOp(')')) { this.next(); break }
      if (this.peek().type === 'eof') {
        throw new SyntaxError(open.line, `'(' opened at line ${open.line} is not closed with ')'`)
      }
      const line = this.peek().line
      let key: string | undefined
      if (this.isOp('=>', 1)) {
        const keyToken = this.next()
        if (keyToken.type !== 'string') throw new SyntaxError(keyToken.line, `an array key must be a string, found ${describeToken(keyToken)}`)
        this.next()
        key = keyToken.text
        const seen = keys.get(key)
        if (seen !== undefined) throw new SyntaxError(keyToken.line, `duplicate key ${JSON.stringify(key)} (first at line ${seen})`)
        keys.set(key, keyToken.line)
      }
      const value = this.parseExpression(scope)
      entries.push({ key, value, ...this.origin(line) })
      if (this.isOp(',')) { this.next(); continue }
      if (this.isOp(')')) { this.next(); break }
      const token = this.peek()
      if (token.type === 'eof') throw new SyntaxError(open.line, `'(' opened at line ${open.line} is not closed with ')'`)
      throw new SyntaxError(token.line, `expected ',' or ')' in the list opened at line ${open.line}, found ${describeToken(token)}`)
    }
    return { kind: 'array', entries, ...this.origin(open.line) }
  }
}

/** A referenced value keeps its structure; scalar lines point at the reference. */
function relocate (value: ConfigValue, origin: Origin): ConfigValue {
  if (value.kind === 'array') return value
  const { file: _file, ...rest } = value
  return { ...rest, ...origin }
}

function concat (left: ConfigValue, right: ConfigValue, line: number): ConfigValue {
  if (left.kind === 'integer' && right.kind === 'integer') return { kind: 'integer', value: left.value + right.value, ...at(left.line, left.file) }
  if (left.kind !== 'array' && right.kind !== 'array') return { kind: 'string', value: `${left.value}${right.value}`, ...at(left.line, left.file) }
  if (left.kind === 'array' && right.kind === 'array') {
    const keys = new Set(left.entries.map((e) => e.key).filter((k) => k !== undefined))
    for (const entry of right.entries) {
      if (entry.key !== undefined && keys.has(entry.key)) throw new SyntaxError(entry.line, `duplicate key ${JSON.stringify(entry.key)} when adding lists`, entry.file)
    }
    return { kind: 'array', entries: [...left.entries, ...right.entries], ...at(left.line, left.file) }
  }
  throw new SyntaxError(line, `cannot add a ${left.kind === 'array' ? 'list' : left.kind} and a ${right.kind === 'array' ? 'list' : right.kind}`)
}

/**
 * Evaluates a lighttpd configuration text into its global settings; never throws on bad input.
 * `include` and `include_shell` go to `options.host`; without one they are reported.
 */
export function evaluateConfig (text: string, options: EvaluateOptions = {}): EvaluatedConfig {
  const errors: ConfigError[] = []
  const files = options.file === undefined ? [] : [options.file]
  const scope = new Scope(undefined)
  let tokens: Token[]
  try {
    tokens = tokenize(text)
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
    return { settings: scope.settings, errors: [{ ...at(err.line, options.file), message: err.message }], files }
  }
  const parser = new Parser(tokens, { file: options.file, host: options.host, errors, files, depth: 0 })
  parser.parseStatements(scope, false)
  return { settings: scope.settings, errors, files }
}
