import t from 'tap'
import { normalizeRequestTarget, decodePath } from '../../plugin/cgi/url-path'

t.test('splits at the first ? and keeps the query raw', async (t) => {
  t.same(normalizeRequestTarget('/a.php?x=%41&y=1?z'), { path: '/a.php', query: 'x=%41&y=1?z' })
  t.same(normalizeRequestTarget('/a.php'), { path: '/a.php', query: '' })
  t.same(normalizeRequestTarget('/a.php?'), { path: '/a.php', query: '' })
  t.same(normalizeRequestTarget('/a%3Fb.php?q'), { path: '/a?b.php', query: 'q' }, 'an encoded ? is part of the path')
})

t.test('percent-decodes the path as UTF-8', async (t) => {
  t.equal(normalizeRequestTarget('/a%20b.php').path, '/a b.php')
  t.equal(normalizeRequestTarget('/%7e%41').path, '/~A')
  t.equal(normalizeRequestTarget('/caf%C3%A9').path, '/café')
  t.equal(normalizeRequestTarget('/%E2%82%AC').path, '/€')
  t.equal(normalizeRequestTarget('/a+b').path, '/a+b', '+ is not a space in a path')
})

t.test('latin1 characters stand for the raw bytes Node received', async (t) => {
  t.equal(decodePath('/caf\u00c3\u00a9'), '/café')
  t.throws(() => decodePath('/caf\u00e9'), { code: 'FST_FASTCGI_BAD_PATH' }, 'a lone 0xE9 byte is not UTF-8')
  t.throws(() => decodePath('/\u20ac'), { code: 'FST_FASTCGI_BAD_PATH' }, 'cannot come off the wire')
})

t.test('bad escapes are 400', async (t) => {
  for (const target of ['/a%', '/a%2', '/a%zz', '/a%2g', '/%%41']) {
    t.throws(() => normalizeRequestTarget(target), { code: 'FST_FASTCGI_BAD_PATH', statusCode: 400 }, target)
  }
})

t.test('invalid UTF-8 is 400', async (t) => {
  for (const target of ['/%C3', '/%C3%28', '/%80', '/%ED%A0%80' /* encoded surrogate */, '/%F8%88%80%80%80', '/%C0%AF' /* overlong / */]) {
    t.throws(() => normalizeRequestTarget(target), { code: 'FST_FASTCGI_BAD_PATH' }, target)
  }
})

t.test('a NUL anywhere in the path is 400', async (t) => {
  for (const target of ['/a%00.php', '/a\u0000b', '/%00', '/x/%00/../y']) {
    t.throws(() => normalizeRequestTarget(target), { code: 'FST_FASTCGI_BAD_PATH' }, JSON.stringify(target))
  }
  t.same(normalizeRequestTarget('/a?%00'), { path: '/a', query: '%00' }, 'the query is not decoded, so not checked')
})

t.test('a backslash is an ordinary character', async (t) => {
  t.equal(normalizeRequestTarget('/a\\b').path, '/a\\b')
  t.equal(normalizeRequestTarget('/a/..\\b').path, '/a/..\\b', '..\\ is a name, not a parent reference')
  t.equal(normalizeRequestTarget('/a/%5C..%5Cb').path, '/a/\\..\\b')
})

t.test('a fragment is dropped', async (t) => {
  t.same(normalizeRequestTarget('/a.php#frag'), { path: '/a.php', query: '' })
  t.same(normalizeRequestTarget('/a.php?q=1#frag'), { path: '/a.php', query: 'q=1' })
})

t.test('control characters in the decoded path are a 400 (CVE-2019-11043: %0a in PATH_INFO)', async (t) => {
  for (const escape of ['%0a', '%0A', '%0d', '%09', '%01', '%1f', '%1F', '%7f', '%7F', '%00']) {
    t.throws(() => normalizeRequestTarget(`/index.php/x${escape}y`), { code: 'FST_FASTCGI_BAD_PATH', statusCode: 400 }, escape)
  }
  t.throws(() => normalizeRequestTarget('/a\u0001b'), { code: 'FST_FASTCGI_BAD_PATH' }, 'a raw control too')
  t.same(normalizeRequestTarget('/p/%20%7e%2b?x=%0a'), { path: '/p/ ~+', query: 'x=%0a' }, 'space, ~ and + pass; the query is not a path')
  t.same(normalizeRequestTarget('/%C2%85'), { path: '/\u0085', query: '' }, 'U+0085 is a character, not a C0 control byte')
})
