// The cgi.fix_pathinfo class of attacks: with checkLocal, `/uploads/x.jpg/y.php` must never make
// PHP run x.jpg (a file holding PHP code). The longest existing leading part is x.jpg, which is
// not a .php script, so the request is not the plugin's.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('/uploads/x.jpg/y.php never runs x.jpg', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  // Debian's php-cgi default: cgi.fix_pathinfo=1, the setting that makes the attack work
  const php = await startPhpCgi(t, { ini: { 'cgi.fix_pathinfo': '1' } })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, checkLocal: true }] } })
  for (const url of ['/uploads/x.jpg/y.php', '/uploads/x.jpg/.php', '/uploads/x.jpg%2fy.php', '/uploads/x.jpg/y.php/z', '/uploads/x.jpg/%2e/y.php']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.headers['x-executed'], undefined, `${url}: x.jpg did not run`)
    t.notMatch(res.body, 'EXECUTED-JPG', url)
  }
  // the backend works: a real script runs
  const ok = await app.inject({ url: '/hello.php' })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'hello from php\n')
})
