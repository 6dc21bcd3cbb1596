import t from 'tap'
import { isPathInside } from '../../plugin/cgi/url-path'

t.test('containment is segment-aware', async (t) => {
  t.ok(isPathInside('/files', '/files'))
  t.ok(isPathInside('/files', '/files/'))
  t.ok(isPathInside('/files', '/files/a/b'))
  t.ok(isPathInside('/files/', '/files/a'))
  t.ok(isPathInside('/files/', '/files'))
  t.notOk(isPathInside('/files', '/files-private'))
  t.notOk(isPathInside('/files', '/files-private/x'))
  t.notOk(isPathInside('/files/', '/filesx'))
  t.notOk(isPathInside('/files', '/'))
  t.notOk(isPathInside('/files', '/other/files'))
})

t.test('the root contains every absolute path', async (t) => {
  t.ok(isPathInside('/', '/'))
  t.ok(isPathInside('/', '/anything/at/all'))
})

t.test('dot-segments cannot climb out', async (t) => {
  t.notOk(isPathInside('/files', '/files/../etc/passwd'))
  t.ok(isPathInside('/files', '/files/a/../b'))
  t.ok(isPathInside('/files', '/files//a'))
})

t.test('relative paths are never inside', async (t) => {
  t.notOk(isPathInside('/files', 'files/a'))
  t.notOk(isPathInside('files', 'files/a'))
})
