import t from 'tap'
import { splitPrefixPath } from '../../plugin/cgi/mapping'

// reference 2.3 and the prefix-key table of 2.5
const rows: Array<[key: string, path: string, fix: boolean, scriptName: string, pathInfo: string]> = [
  ['/app', '/app', false, '/app', ''],
  ['/app', '/app/', false, '/app', '/'],
  ['/app', '/app/foo/bar', false, '/app', '/foo/bar'],
  ['/app', '/application/x', false, '/application', '/x'],
  ['/app/', '/app/', false, '/app/', ''],
  ['/app/', '/app/foo', false, '/app/foo', ''],
  ['/app/', '/app/foo/bar', false, '/app/foo', '/bar'],
  ['/', '/', false, '/', ''],
  ['/', '/abc', false, '/abc', ''],
  ['/', '/abc/def/ghi', false, '/abc', '/def/ghi'],
  ['/', '/', true, '', '/'],
  ['/', '/abc/def/ghi', true, '', '/abc/def/ghi'],
  ['/app', '/app/foo', true, '/app', '/foo'],
  ['/app/', '/app//x', false, '/app/', '/x'],
  ['/app', '/app/a b/c', false, '/app', '/a b/c']
]

t.test('SCRIPT_NAME ends at the first / at or after the key', async (t) => {
  for (const [key, path, fix, scriptName, pathInfo] of rows) {
    t.same(splitPrefixPath(key, path, fix), { scriptName, pathInfo }, `${key} ${path}${fix ? ' fix-root-scriptname' : ''}`)
  }
})
