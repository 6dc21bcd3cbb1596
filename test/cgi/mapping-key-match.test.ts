import t from 'tap'
import { classifyKey, findMapping } from '../../plugin/cgi/mapping'
import type { MappingKey } from '../../plugin/cgi/mapping'

t.test('a key starting with / is a prefix, anything else a suffix', async (t) => {
  t.same(classifyKey('/app'), { key: '/app', kind: 'prefix' })
  t.same(classifyKey('/'), { key: '/', kind: 'prefix' })
  t.same(classifyKey('.php'), { key: '.php', kind: 'suffix' })
  t.same(classifyKey('php'), { key: 'php', kind: 'suffix' })
  t.same(classifyKey('index.fcgi'), { key: 'index.fcgi', kind: 'suffix' })
  t.throws(() => classifyKey(''), { code: 'FST_FASTCGI_INVALID_OPTION' })
})

const keys = (...names: string[]): MappingKey[] => names.map(classifyKey)

t.test('prefix keys compare raw bytes, not segments', async (t) => {
  const k = keys('/app')
  t.equal(findMapping(k, '/app')?.key, '/app')
  t.equal(findMapping(k, '/app/x')?.key, '/app')
  t.equal(findMapping(k, '/application/x')?.key, '/app')
  t.equal(findMapping(k, '/ap'), undefined)
  t.equal(findMapping(k, '/App/x'), undefined, 'case-sensitive')
  t.equal(findMapping(keys('/app/'), '/app'), undefined, '/app/ does not take /app')
  t.equal(findMapping(keys('/app/'), '/app/')?.key, '/app/')
})

t.test('suffix keys compare the end of the path, case-sensitively', async (t) => {
  const k = keys('.php')
  t.equal(findMapping(k, '/index.php')?.key, '.php')
  t.equal(findMapping(k, '/x.php.txt'), undefined)
  t.equal(findMapping(k, '/x.PHP'), undefined)
  t.equal(findMapping(k, '/x.php/extra'), undefined, 'PATH_INFO needs the filesystem split first')
  t.equal(findMapping(keys('php'), '/xphp')?.key, 'php', 'any string works as a suffix')
})

t.test('keys are tried in order and the first match wins', async (t) => {
  t.equal(findMapping(keys('/app', '.php'), '/app/x.php')?.key, '/app')
  t.equal(findMapping(keys('.php', '/app'), '/app/x.php')?.key, '.php')
  t.equal(findMapping(keys('/', '/app'), '/app/x')?.key, '/')
  t.equal(findMapping(keys('.php', '/app'), '/app/x')?.key, '/app')
  t.equal(findMapping([], '/x'), undefined)
})

t.test('callers get their own key objects back', async (t) => {
  const mine = [{ key: '.php', kind: 'suffix' as const, hosts: ['a'] }]
  const found = findMapping(mine, '/i.php')
  t.equal(found, mine[0])
  t.same(found?.hosts, ['a'])
})
