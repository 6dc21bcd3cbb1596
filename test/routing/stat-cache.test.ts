// probeScript keeps stat() and realpath() results for a second, as lighttpd's stat cache:
// a removed script is still seen within that second, and seen gone after it. A link out of
// the root is refused whether its result comes from the cache or not.
import t from 'tap'
import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { clearStatCache, probeScript } from '../../plugin/fastify/locate-script'
import { makeTempDir } from '../helpers/tmp'

t.test('results are kept for a second', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-statcache-')
  const root = join(dir, 'www')
  mkdirSync(root)
  writeFileSync(join(root, 'a.php'), '')
  t.same(await probeScript(root, '/a.php/x'), { kind: 'file', scriptName: '/a.php', pathInfo: '/x' })
  unlinkSync(join(root, 'a.php'))
  t.same(await probeScript(root, '/a.php/x'), { kind: 'file', scriptName: '/a.php', pathInfo: '/x' }, 'still seen within the second')
  await sleep(1100)
  t.same(await probeScript(root, '/a.php/x'), { kind: 'missing' }, 'gone after it')
})

t.test('a link out of the root is refused, cached or not', async (t) => {
  const dir = makeTempDir(t, 'ffcgi-statcache-')
  const root = join(dir, 'www')
  mkdirSync(root)
  writeFileSync(join(dir, 'outside.php'), '')
  symlinkSync(join(dir, 'outside.php'), join(root, 'out.php'))
  clearStatCache()
  t.same(await probeScript(root, '/out.php'), { kind: 'forbidden', scriptName: '/out.php' })
  t.same(await probeScript(root, '/out.php'), { kind: 'forbidden', scriptName: '/out.php' }, 'from the cache')
  t.same(await probeScript(root, '/out.php/info'), { kind: 'forbidden', scriptName: '/out.php' })
})
