import t from 'tap'
import { classifyKey, findMapping } from '../../plugin/cgi/mapping'

const keys = ['/app', '.php', '.fcgi'].map(classifyKey)

t.test('a mapped extension uses the key it maps to', async (t) => {
  const map = new Map([['.php3', '.php']])
  t.equal(findMapping(keys, '/x.php3', map)?.key, '.php')
  t.equal(findMapping(keys, '/app/x.php3', map)?.key, '.php', 'map-extensions go before the keys in order')
  t.equal(findMapping(keys, '/x.php4', map), undefined)
})

t.test('a plain object works like a Map', async (t) => {
  t.equal(findMapping(keys, '/x.php3', { '.php3': '.php' })?.key, '.php')
})

t.test('a mapping to an unknown key falls back to normal matching', async (t) => {
  const map = new Map([['.php3', '.nope']])
  t.equal(findMapping(keys, '/x.php3', map), undefined)
  t.equal(findMapping(keys, '/app/x.php3', map)?.key, '/app')
})

t.test('only the first matching mapping entry counts', async (t) => {
  const map = new Map([['3', '.nope'], ['.php3', '.php']])
  t.equal(findMapping(keys, '/x.php3', map), undefined, 'first match maps to nothing: normal matching, which finds none')
  const ordered = new Map([['.php3', '.fcgi'], ['3', '.php']])
  t.equal(findMapping(keys, '/x.php3', ordered)?.key, '.fcgi')
})

t.test('mapping is case-sensitive', async (t) => {
  t.equal(findMapping(keys, '/x.PHP3', new Map([['.php3', '.php']])), undefined)
})
