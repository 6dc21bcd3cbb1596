// The subset of lighttpd's configuration language that a FastCGI setup uses: assignments
// (`=`, `+=`, `:=`), strings, integers, arrays `( ... )` with or without `key =>`, string and
// array concatenation with `+`, `var.` variables and bare references, comments and trailing
// commas. Conditionals (`$HTTP[...] { ... }`), `include`, `include_shell` and `env.` cannot be
// evaluated without a request or the file system: they are reported as errors, with the line.
// Pure: no fs, no environment.

export interface ConfigError {
  /** 1-based line in the configuration text */
  readonly line: number
  readonly message: string
}

export type ConfigValue =
  | { readonly kind: 'string', readonly value: string, readonly line: number }
  | { readonly kind: 'integer', readonly value: number, readonly line: number }
  | { readonly kind: 'array', readonly entries: readonly ArrayEntry[], readonly line: number }

export interface ArrayEntry {
  /** undefined for an entry without `key =>` */
  readonly key: string | undefined
  readonly value: ConfigValue
  readonly line: number
}

/** A top-level setting after evaluation; `line` is where it was (last) assigned. */
export interface Setting {
  readonly value: ConfigValue
  readonly line: number
}

export interface EvaluatedConfig {
  /** global settings by name (`fastcgi.server`, `var.x`, ...) */
  readonly settings: ReadonlyMap<string, Setting>
  readonly errors: ConfigError[]
}

type TokenType = 'string' | 'integer' | 'name' | 'condition' | 'op' | 'eof'

interface Token {
  readonly type: TokenType
  readonly text: string
  readonly line: number
}

const OPERATORS = ['=>', '+=', ':=', '==', '!=', '=~', '!~', '=', '+', '(', ')', ',', '{', '}', '[', ']']

class SyntaxError extends Error {
  constructor (readonly line: number, message: string) {
    super(message)
  }
}

function tokenize (text: string): Token[] {
  const tokens: Token[] = []
  let line = 1
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === '\n') { line++; i++; continue }
    if (c === ' ' || c === '\t' || c === '\r' || c === ';') { i++; continue }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++
      continue
    }
    if (c === '"') {
      const start = line
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new SyntaxError(start, 'unterminated string')
        const d = text[i] as string
        if (d === '\\' && text[i + 1] === '"') { value += '"'; i += 2; continue }
        if (d === '"') { i++; break }
        if (d === '\n') line++
        value += d
        i++
      }
      tokens.push({ type: 'string', text: value, line: start })
      continue
    }
    if (c >= '0' && c <= '9') {
      let j = i
      while (j < text.length && /[0-9]/.test(text[j] as string)) j++
      if (j < text.length && /[A-Za-z_.]/.test(text[j] as string)) {
        throw new SyntaxError(line, `unexpected ${JSON.stringify(text.slice(i, j + 1))}: a number is digits only`)
      }
      tokens.push({ type: 'integer', text: text.slice(i, j), line })
      i = j
      continue
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i
      while (j < text.length && /[A-Za-z0-9_.\-]/.test(text[j] as string)) j++
      tokens.push({ type: 'name', text: text.slice(i, j), line })
      i = j
      continue
    }
    if (c === '$') {
      let j = i + 1
      while (j < text.length && /[A-Za-z_]/.test(text[j] as string)) j++
      tokens.push({ type: 'condition', text: text.slice(i, j), line })
      i = j
      continue
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i))
    if (op === undefined) throw new SyntaxError(line, `unexpected character ${JSON.stringify(c)}`)
    tokens.push({ type: 'op', text: op, line })
    i += op.length
  }
  tokens.push({ type: 'eof', text: '', line })
  return tokens
}

function describeToken (token: Token): string {
  switch (token.type) {
    case 'eof': return 'the end of the configuration'
    case 'string': return `the string ${JSON.stringify(token.text)}`
    default: return `'${token.text}'`
  }
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

class Parser {
  private pos = 0
  readonly errors: ConfigError[] = []

  constructor (private readonly tokens: Token[]) {}

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
        this.errors.push({ line: err.line, message: err.message })
        if (!this.recover(err.line)) return
      }
    }
  }

  /** Skips to the first token of a later line at bracket depth 0; false at the end. */
  private recover (line: number): boolean {
    let depth = 0
    for (;;) {
      const token = this.peek()
      if (token.type === 'eof') return false
      if (token.line > line && depth <= 0 && (token.type === 'name' || token.type === 'condition')) return true
      if (depth <= 0 && token.type === 'op' && token.text === '}') return true
      if (token.type === 'op' && (token.text === '(' || token.text === '[')) depth++
      if (token.type === 'op' && (token.text === ')' || token.text === ']')) depth--
      this.next()
    }
  }

  private parseStatement (scope: Scope): void {
    const token = this.next()
    if (token.type === 'condition') {
      this.parseConditional(token, scope)
      return
    }
    if (token.type === 'name' && (token.text === 'include' || token.text === 'include_shell')) {
      const arg = this.next()
      const what = arg.type === 'string' ? ` ${JSON.stringify(arg.text)}` : ''
      this.errors.push({
        line: token.line,
        message: token.text === 'include'
          ? `include${what} is not followed: copy the included file's fastcgi settings into this file (or parse that file on its own)`
          : `include_shell${what} cannot be run here: paste the command's output instead`
      })
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
        throw new SyntaxError(name.line, `${name.text} is already set at line ${existing.line}; use += to add to it or := to replace it`)
      }
      scope.settings.set(key, { value, line: name.line })
    } else if (op === ':=') {
      scope.settings.set(key, { value, line: name.line })
    } else {
      const base = existing ?? (scope.parent !== undefined ? scope.lookup(key) : undefined)
      scope.settings.set(key, { value: base === undefined ? value : concat(base.value, value, name.line), line: name.line })
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
    const operand = this.next()
    description += ` ${op.text} ${operand.type === 'string' ? `"${operand.text}"` : operand.text}`
    this.expectOp('{', `after the condition ${description}`)
    const inner = new Scope(scope)
    const errorsBefore = this.errors.length
    this.parseStatements(inner, true)
    this.expectOp('}', `to close ${description} { ... }`)
    const fastcgi = [...inner.settings.entries()]
      .filter(([name]) => name.startsWith('fastcgi.') || name === 'server.document-root' || name === 'index-file.names')
      .map(([name, setting]) => `${name} at line ${setting.line}`)
    this.errors.splice(errorsBefore, 0, {
      line: start.line,
      message: `conditional block ${description} { ... } cannot be expressed as plugin options` +
        (fastcgi.length > 0 ? `: ${fastcgi.join(', ')} inside it was not imported (register the plugin in a Fastify context with route constraints, or use a prefix key)` : ': its settings were not imported')
    })
    if (this.peek().type === 'name' && this.peek().text === 'else') {
      this.next()
      const after = this.peek()
      if (after.type === 'condition') {
        this.next()
        this.parseConditional(after, scope)
      } else {
        const open = this.expectOp('{', "after 'else'")
        const elseScope = new Scope(scope)
        this.parseStatements(elseScope, true)
        this.expectOp('}', "to close else { ... }")
        this.errors.push({ line: open.line, message: 'else { ... } block cannot be expressed as plugin options: its settings were not imported' })
      }
    }
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
        return { kind: 'string', value: token.text, line: token.line }
      case 'integer':
        return { kind: 'integer', value: Number.parseInt(token.text, 10), line: token.line }
      case 'name': {
        if (token.text.startsWith('env.')) {
          throw new SyntaxError(token.line, `${token.text}: environment variables are not read when importing (write the value instead)`)
        }
        const found = scope.lookup(token.text) ?? scope.lookup(storedName(token.text))
        if (found === undefined) {
          throw new SyntaxError(token.line, `undefined variable ${token.text} (set it first: var.${token.text.replace(/^var\./, '')} = ...)`)
        }
        return relocate(found.value, token.line)
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
      entries.push({ key, value, line })
      if (this.isOp(',')) { this.next(); continue }
      if (this.isOp(')')) { this.next(); break }
      const token = this.peek()
      if (token.type === 'eof') throw new SyntaxError(open.line, `'(' opened at line ${open.line} is not closed with ')'`)
      throw new SyntaxError(token.line, `expected ',' or ')' in the list opened at line ${open.line}, found ${describeToken(token)}`)
    }
    return { kind: 'array', entries, line: open.line }
  }
}

/** A referenced value keeps its structure; scalar lines point at the reference. */
function relocate (value: ConfigValue, line: number): ConfigValue {
  return value.kind === 'array' ? value : { ...value, line }
}

function concat (left: ConfigValue, right: ConfigValue, line: number): ConfigValue {
  if (left.kind === 'integer' && right.kind === 'integer') return { kind: 'integer', value: left.value + right.value, line: left.line }
  if (left.kind !== 'array' && right.kind !== 'array') return { kind: 'string', value: `${left.value}${right.value}`, line: left.line }
  if (left.kind === 'array' && right.kind === 'array') {
    const keys = new Set(left.entries.map((e) => e.key).filter((k) => k !== undefined))
    for (const entry of right.entries) {
      if (entry.key !== undefined && keys.has(entry.key)) throw new SyntaxError(entry.line, `duplicate key ${JSON.stringify(entry.key)} when adding lists`)
    }
    return { kind: 'array', entries: [...left.entries, ...right.entries], line: left.line }
  }
  throw new SyntaxError(line, `cannot add a ${left.kind === 'array' ? 'list' : left.kind} and a ${right.kind === 'array' ? 'list' : right.kind}`)
}

/** Evaluates a lighttpd configuration text into its global settings; never throws on bad input. */
export function evaluateConfig (text: string): EvaluatedConfig {
  let tokens: Token[]
  try {
    tokens = tokenize(text)
  } catch (err) {
    if (err instanceof SyntaxError) return { settings: new Map(), errors: [{ line: err.line, message: err.message }] }
    throw err
  }
  const parser = new Parser(tokens)
  const scope = new Scope(undefined)
  parser.parseStatements(scope, false)
  return { settings: scope.settings, errors: parser.errors }
}
