import t from 'tap'
import { normalizeRequestTarget, removeDotSegments } from '../../plugin/cgi/url-path'

const cases: Array<[string, string]> = [
  ['/', '/'],
  ['/a/b/c', '/a/b/c'],
  ['/a/b/', '/a/b/'],
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/../', '/a/'],
  ['/..', '/'],
  ['/../', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/a/../../b', '/b'],
  ['//a//b//', '/a/b/'],
  ['/a///b', '/a/b'],
  ['/.', '/'],
  ['/./', '/'],
  ['/...', '/...'],
  ['/..a/b..', '/..a/b..'],
  ['/.hidden/x', '/.hidden/x'],
  ['/a/.../b', '/a/.../b'],
  ['/a/./../b/./c/..', '/b/']
]

t.test('RFC 3986 5.2.4 with // collapsed and .. clamped at the root', async (t) => {
  for (const [input, expected] of cases) t.equal(removeDotSegments(input), expected, input)
})

t.test('dot-segments are removed after decoding, so encoded ones cannot escape', async (t) => {
  t.equal(normalizeRequestTarget('/%2e%2e/%2E%2E/etc/passwd').path, '/etc/passwd')
  t.equal(normalizeRequestTarget('/a/%2e/b').path, '/a/b')
  t.equal(normalizeRequestTarget('/a%2f..%2fb').path, '/b', 'an encoded / separates segments once decoded')
  t.equal(normalizeRequestTarget('/a%2F%2Fb').path, '/a/b')
})

t.test('the result always starts with /', async (t) => {
  t.equal(normalizeRequestTarget('*').path, '/')
  t.equal(normalizeRequestTarget('/?x').path, '/')
  t.throws(() => normalizeRequestTarget('a/b'), { code: 'FST_FASTCGI_BAD_PATH' })
  t.throws(() => normalizeRequestTarget(''), { code: 'FST_FASTCGI_BAD_PATH' })
  t.throws(() => normalizeRequestTarget('?x'), { code: 'FST_FASTCGI_BAD_PATH' })
  t.equal(removeDotSegments('a/b'), '/a/b')
  t.equal(removeDotSegments(''), '/')
})
