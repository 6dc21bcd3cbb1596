// CgiHeaderParser under arbitrary splits and arbitrary bytes: a split never changes the
// result (head, body bytes, or the error), errors are only FST_FASTCGI_BAD_HEADER and
// FST_FASTCGI_HEADER_TOO_LARGE, and what the parser holds stays within its limit.
import t from 'tap'
import fc from 'fast-check'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'
import { codeOf, cutWith, cutsArb, params } from './fuzz-config'

type Outcome =
  | { kind: 'head', head: string, body: string }
  | { kind: 'error', code: string }
  | { kind: 'incomplete' }

function parse (chunks: Buffer[], limit: number): Outcome {
  const parser = new CgiHeaderParser(limit)
  let head: string | undefined
  const body: Buffer[] = []
  for (const chunk of chunks) {
    let parsed
    try {
      parsed = parser.push(chunk)
    } catch (err) {
      return { kind: 'error', code: codeOf(err) }
    }
    if (parsed !== undefined) {
      head ??= JSON.stringify(parsed.head)
      body.push(parsed.rest)
    }
  }
  if (head === undefined) return { kind: 'incomplete' }
  return { kind: 'head', head, body: Buffer.concat(body).toString('hex') }
}

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".split('')
const nameArb = fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 16 }).map((c) => c.join(''))
  .filter((n) => !/^(status|location)$/i.test(n))
// field values: visible latin1 and inner spaces/tabs, never CR, LF or NUL
const valueCharArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constantFrom(0x20, 0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) }
).map((c) => String.fromCharCode(c))
const valueArb = fc.array(valueCharArb, { maxLength: 40 }).map((c) => c.join('').replace(/^[ \t]+|[ \t]+$/g, ''))
const eolArb = fc.constantFrom('\n', '\r\n')

const validHeadArb = fc.record({
  statusLine: fc.option(fc.integer({ min: 100, max: 999 }), { nil: undefined }),
  status: fc.option(fc.tuple(fc.integer({ min: 200, max: 999 }), fc.constantFrom('', ' OK', ' Not Found')), { nil: undefined }),
  location: fc.option(fc.constantFrom('/local/x', 'http://elsewhere.example/', '//evil.example/'), { nil: undefined }),
  headers: fc.array(fc.tuple(nameArb, valueArb, fc.constantFrom('', ' ', '  ', '\t')), { maxLength: 12 }),
  eols: fc.array(eolArb, { minLength: 16, maxLength: 16 }),
  body: fc.uint8Array({ maxLength: 200 })
}).filter((h) => h.statusLine === undefined || h.statusLine >= 200 || h.statusLine === 101)

t.test('a valid head: any split gives the head as written, and the body bytes after it', async (t) => {
  fc.assert(fc.property(validHeadArb, cutsArb, (h, cuts) => {
    let eol = 0
    const next = (): string => h.eols[eol++ % h.eols.length] as string
    let text = ''
    if (h.statusLine !== undefined) text += `HTTP/1.1 ${h.statusLine} Whatever${next()}`
    const expected: Array<[string, string]> = []
    for (const [name, value, space] of h.headers) {
      text += `${name}:${space}${value}${next()}`
      if (value !== '') expected.push([name, value])
    }
    if (h.status !== undefined) text += `Status: ${h.status[0]}${h.status[1]}${next()}`
    if (h.location !== undefined) {
      text += `Location: ${h.location}${next()}`
      expected.push(['Location', h.location])
    }
    text += next()
    const bytes = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(h.body)])
    const status = h.status?.[0] ?? h.statusLine ?? (h.location !== undefined ? 302 : 200)
    const localRedirect = h.status === undefined && h.statusLine === undefined && h.location === '/local/x'
    const want = JSON.stringify({ status, headers: expected, location: h.location, localRedirect })
    const got = parse(cutWith(bytes, cuts), 1 << 20)
    return got.kind === 'head' && got.head === want && got.body === Buffer.from(h.body).toString('hex')
  }), params(2000))
  t.pass('heads and bodies are split-independent')
})

// bytes that look like header blocks, broken in every way
const pieceArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Status: 200', 'Status: 404 Not Found', 'Status: 99', 'Status: 1000', 'Status: abc', 'Status:',
    'HTTP/1.1 200 OK', 'HTTP/1.0 2', 'Location: /x', 'Location: http://a/', 'X-A: b', 'X-A:', ':', ': v', 'Bad Name: v', 'Nö: v',
    'Status: 100', 'Status: 101', 'Set-Cookie: a=1', 'X: a\rb', '\r\n', '\n', '\n\n', '\r\n\r\n', '\r', '\0', ' ', '\t', 'é', '\x01', 'a', 'x'.repeat(70)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a).toString('latin1')) }
)
const garbageArb = fc.array(pieceArb, { maxLength: 30 }).map((pieces) => Buffer.from(pieces.join(''), 'latin1'))
const limitArb = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 2048 }))

t.test('arbitrary bytes: split-independent outcome, only BAD_HEADER / HEADER_TOO_LARGE', async (t) => {
  const seen = new Set<string>()
  fc.assert(fc.property(fc.oneof(garbageArb, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), limitArb, cutsArb, (bytes, limit, cuts) => {
    const whole = parse([bytes], limit)
    const split = parse(cutWith(bytes, cuts), limit)
    seen.add(whole.kind === 'error' ? whole.code : whole.kind)
    const allowed = whole.kind !== 'error' || whole.code === 'FST_FASTCGI_BAD_HEADER' || whole.code === 'FST_FASTCGI_HEADER_TOO_LARGE'
    return allowed && JSON.stringify(whole) === JSON.stringify(split)
  }), params(4000))
  t.same([...seen].sort(), ['FST_FASTCGI_BAD_HEADER', 'FST_FASTCGI_HEADER_TOO_LARGE', 'head', 'incomplete'], 'every outcome came up')
})

// The parser only holds bytes it was given, so failing by the byte that takes a block past the
// limit (and never before) bounds what it keeps by the limit.
t.test('a block without end fails exactly when it passes the limit, whatever the chunk sizes', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4096 }), fc.constantFrom('x', 'X-A: b\n', 'X-Long: ' + 'v'.repeat(100) + '\n'), fc.integer({ min: 1, max: 5000 }), (limit, unit, chunk) => {
    const parser = new CgiHeaderParser(limit)
    const piece = Buffer.from(unit.repeat(Math.ceil(chunk / unit.length))).subarray(0, chunk)
    let sent = 0
    for (let i = 0; i < 100_000; i++) {
      try {
        if (parser.push(piece) !== undefined) return false
      } catch (err) {
        return codeOf(err) === 'FST_FASTCGI_HEADER_TOO_LARGE' && sent <= limit && sent + piece.length > limit
      }
      sent += piece.length
      if (sent > limit) return false
    }
    return false
  }), params(1000))
  t.pass('the limit is enforced on the byte that crosses it')
})

t.test('interim 1xx blocks: each block has its own limit, and an endless stream of them holds nothing', async (t) => {
  const parser = new CgiHeaderParser(64)
  const interim = Buffer.from('Status: 100 Continue\r\nX-Progress: 1\r\n\r\n')
  let heads = 0
  for (let i = 0; i < 10_000; i++) if (parser.push(interim) !== undefined) heads++
  t.equal(heads, 0, '10,000 interim blocks of 41 bytes each pass a 64-byte limit and give no head')
  const parsed = parser.push(Buffer.from('Status: 204\n\nbody'))
  t.equal(parsed?.head.status, 204)
  t.equal(parsed?.rest.toString(), 'body')
})

t.test('a colon-less or folded line anywhere after the first: BAD_HEADER, whatever the split', async (t) => {
  const strayArb = fc.oneof(
    valueArb.filter((v) => v !== '' && !v.includes(':')),
    fc.tuple(fc.constantFrom(' ', '\t'), valueArb).map(([fold, v]) => fold + v)
  )
  fc.assert(fc.property(fc.array(fc.tuple(nameArb, valueArb), { minLength: 1, maxLength: 8 }), strayArb, fc.nat(), eolArb, cutsArb, (headers, stray, at, eol, cuts) => {
    const lines = headers.map(([name, value]) => `${name}: ${value}`)
    lines.splice(1 + (at % lines.length), 0, stray)
    const bytes = Buffer.from(lines.join(eol) + eol + eol + 'body', 'latin1')
    const got = parse(cutWith(bytes, cuts), 1 << 20)
    return got.kind === 'error' && got.code === 'FST_FASTCGI_BAD_HEADER'
  }), params(1000))
  t.pass('never dropped, never a response')
})
