import t from 'tap'
import { normalizeRequestTarget, originForm } from '../../plugin/cgi/url-path'

t.test('absolute-form reduces to path and query', async (t) => {
  t.same(normalizeRequestTarget('http://host/x?y'), { path: '/x', query: 'y' })
  t.same(normalizeRequestTarget('https://host:8443/a/../b.php?q=1'), { path: '/b.php', query: 'q=1' })
  t.same(normalizeRequestTarget('http://host'), { path: '/', query: '' })
  t.same(normalizeRequestTarget('http://host?y'), { path: '/', query: 'y' })
  t.same(normalizeRequestTarget('HTTP://[::1]:80/%41'), { path: '/A', query: '' })
})

t.test('originForm leaves origin-form alone and keeps the raw bytes', async (t) => {
  t.equal(originForm('/a%20b?x'), '/a%20b?x')
  t.equal(originForm('http://h/a%20b?x'), '/a%20b?x')
  t.equal(originForm('http://h?x'), '/?x')
  t.equal(originForm('*'), '*')
  t.equal(originForm('host:80'), 'host:80', 'authority-form has no //')
  t.equal(originForm('1http://h/x'), '1http://h/x', 'a scheme starts with a letter')
})
