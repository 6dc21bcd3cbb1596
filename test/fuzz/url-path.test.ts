// normalizeRequestTarget under targets built from every traversal spelling (%2e%2e, %2f,
// backslashes, overlong UTF-8, NUL, stray %, absolute form): the path it yields is absolute,
// holds no `.`/`..` segment, no `//` and no NUL, and joined to a document root stays inside it.
// Anything it cannot make such a path of is FST_FASTCGI_BAD_PATH, never another error.
import t from 'tap'
import fc from 'fast-check'
import path from 'node:path'
import { isPathInside, normalizeRequestTarget, removeDotSegments } from '../../plugin/cgi/url-path'
import { codeOf, params } from './fuzz-config'

// pieces that decode (traversal spellings included) and pieces that must be refused
const DECODABLE = [
  '/', '/', '/', '.', '..', '...', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C', '\\', '..\\', '%25', '%252e',
  'a', 'b', 'x.php', '.php', 'é', '%c3%a9', '?', '#', ';', '&', '=', '%3f', '%23', 'http://h', 'HTTP://a.b:80', '*', ' ', '%20'
]
const POISON = ['%00', '\0', '%c0%ae', '%c0%af', '%e0%80%ae', '%c1%9c', '%f0%80%80%ae', '%', '%2', '%zz', '%ff', '\u0430', '%u002e']
const PIECES = [...DECODABLE, ...POISON]
const pieceArb = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...DECODABLE) }, { weight: 1, arbitrary: fc.constantFrom(...POISON) })
const targetArb = fc.oneof(
  { weight: 5, arbitrary: fc.array(pieceArb, { maxLength: 24 }).map((p) => p.join('')) },
  { weight: 3, arbitrary: fc.array(pieceArb, { maxLength: 24 }).map((p) => '/' + p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => '/' + s) }
)

function hasDotSegment (p: string): boolean {
  return p.split('/').some((s) => s === '.' || s === '..')
}

t.test('a normalized path is absolute and free of dot-segments, // and NUL; else FST_FASTCGI_BAD_PATH', async (t) => {
  const outcomes = { path: 0, badPath: 0 }
  fc.assert(fc.property(targetArb, (target) => {
    let p: string
    try {
      p = normalizeRequestTarget(target).path
    } catch (err) {
      outcomes.badPath++
      return codeOf(err) === 'FST_FASTCGI_BAD_PATH'
    }
    outcomes.path++
    return p.startsWith('/') && !p.includes('/../') && !p.includes('/./') && !p.includes('//') && !p.includes('\0') &&
      !p.endsWith('/..') && !p.endsWith('/.') && !hasDotSegment(p) && removeDotSegments(p) === p
  }), params(5000))
  t.ok(outcomes.path > 1000 && outcomes.badPath > 500, `both outcomes came up (${outcomes.path} paths, ${outcomes.badPath} refused)`)
})

t.test('joined to a document root the path never leaves it', async (t) => {
  const root = '/srv/www/docroot'
  fc.assert(fc.property(targetArb, (target) => {
    let p: string
    try {
      p = normalizeRequestTarget(target).path
    } catch {
      return true
    }
    const joined = path.join(root, p)
    return isPathInside(root, joined) && (joined === root || joined.startsWith(root + '/'))
  }), params(5000))
  t.pass('contained')
})

t.test('overlong UTF-8 and NUL, in any position, are refused', async (t) => {
  const poison = fc.constantFrom('%c0%ae', '%c0%af', '%e0%80%ae', '%c1%9c', '%f0%80%80%ae', '%00', '\0', '%c0%80')
  fc.assert(fc.property(fc.array(fc.constantFrom(...PIECES.filter((p) => !p.includes('?') && !p.includes('#') && !p.startsWith('http') && !p.startsWith('HTTP'))), { maxLength: 10 }), poison, fc.array(fc.constantFrom('a', '/', '.', '%2e'), { maxLength: 10 }), (before, bad, after) => {
    try {
      normalizeRequestTarget('/' + before.join('') + bad + after.join(''))
      return false
    } catch (err) {
      return codeOf(err) === 'FST_FASTCGI_BAD_PATH'
    }
  }), params(3000))
  t.pass('refused')
})

t.test('the query never changes the path, and is returned as received up to a fragment', async (t) => {
  const pathArb = fc.array(fc.constantFrom('/', 'a', '.', '..', '%2e', '%2f', 'x.php'), { maxLength: 12 }).map((p) => '/' + p.join(''))
  const queryArb = fc.array(fc.constantFrom('a=1', '&', '/../', '%2e%2e', '?', '%00', '=', '\\', '.'), { maxLength: 8 }).map((q) => q.join(''))
  fc.assert(fc.property(pathArb, queryArb, (p, q) => {
    const bare = normalizeRequestTarget(p)
    const withQuery = normalizeRequestTarget(`${p}?${q}`)
    return withQuery.path === bare.path && bare.query === ''
  }), params(2000))
  t.pass('paths and queries are independent')
})
