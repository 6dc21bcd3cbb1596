// Symbolic links out of the document root are not executed: a script whose real location
// (after following every link, in the file name or in any directory above it) is outside the
// document root is refused with 403 and the backend is not contacted. Links that stay inside,
// and a document root that is itself reached through a link (deploys that switch a `current`
// link), keep working, also after the link is switched to another release.
import t from 'tap'
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { listenWithPlugin } from '../hardening/support'
import { OUTSIDE, makeSecurityDocroot } from './docroot'
import { makeTempDir } from '../helpers/tmp'

t.test('links out of the document root', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const { root } = makeSecurityDocroot(t)
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenWithPlugin(t, { documentRoot: root, indexFiles: ['index.php'], server: { '.php': [php.options] } })
  for (const target of ['/link-out.php', '/linkdir/secret.php', '/link-out.php/path/info', '/linkdir/secret.php/x']) {
    const res = await request(`${base}${target}`, { timeoutMs: 10_000 })
    t.equal(res.status, 403, `${target}: 403`)
    t.notMatch(res.body.toString(), OUTSIDE, `${target}: did not run`)
  }
  const inside = await request(`${base}/link-in.php`, { timeoutMs: 10_000 })
  t.equal(inside.status, 200, 'a link that stays inside runs')
  t.equal(inside.body.toString(), 'hello from php\n')
  // an index file that is a link out of the root is not taken
  mkdirSync(join(root, 'dir-with-bad-index'))
  symlinkSync(join(root, '..', 'outside.php'), join(root, 'dir-with-bad-index', 'index.php'))
  const index = await request(`${base}/dir-with-bad-index/`, { timeoutMs: 10_000 })
  t.not(index.status, 200, `an index.php linking out is not run (${index.status})`)
  t.notMatch(index.body.toString(), OUTSIDE)
})

t.test('a document root reached through a link, switched like a deploy', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-deploy-')
  for (const release of ['r1', 'r2']) {
    mkdirSync(join(dir, release, 'public'), { recursive: true })
    writeFileSync(join(dir, release, 'public', 'v.php'), `<?php echo "${release}";`)
  }
  symlinkSync(join(dir, 'r1'), join(dir, 'current'))
  // PHP's own realpath cache would keep serving the old release for a while
  const php = await startPhpCgi(t, { children: 1, ini: { realpath_cache_size: '0' } })
  const { base } = await listenWithPlugin(t, { documentRoot: join(dir, 'current', 'public'), server: { '.php': [php.options] } })
  const first = await request(`${base}/v.php`, { timeoutMs: 10_000 })
  t.equal(first.status, 200)
  t.equal(first.body.toString(), 'r1')
  // atomic switch, as deploy tools do it
  symlinkSync(join(dir, 'r2'), join(dir, 'next'))
  renameSync(join(dir, 'next'), join(dir, 'current'))
  const second = await request(`${base}/v.php`, { timeoutMs: 10_000 })
  t.equal(second.status, 200, 'still served after the switch')
  t.equal(second.body.toString(), 'r2', 'from the new release')
})
