// Tokens of lighttpd's configuration language: strings, integers, names, `$CONDITION`s and
// operators, with their lines. Pure.

type TokenType = 'string' | 'integer' | 'name' | 'condition' | 'op' | 'eof'

export interface Token {
  readonly type: TokenType
  readonly text: string
  readonly line: number
}

const OPERATORS = ['=>', '+=', ':=', '==', '!=', '=~', '!~', '=^', '=$', '=', '+', '(', ')', ',', '{', '}', '[', ']']

/** A syntax or evaluation error at a line (of `file` when it is not the text being parsed). */
export class SyntaxError extends Error {
  constructor (readonly line: number, message: string, readonly file?: string) {
    super(message)
  }
}

export function tokenize (text: string): Token[] {
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

export function describeToken (token: Token): string {
  switch (token.type) {
    case 'eof': return 'the end of the configuration'
    case 'string': return `the string ${JSON.stringify(token.text)}`
    default: return `'${token.text}'`
  }
}
