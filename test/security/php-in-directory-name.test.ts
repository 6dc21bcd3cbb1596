// `.php` in a directory name never makes the file below it run: `/x.php/y.txt` is the text
// file y.txt in a directory called x.php, and `/uploads/pic.jpg/z.php` is not PHP running
// pic.jpg (the cgi.fix_pathinfo class of attacks: the script must exist and be the .php).
import t from 'tap'
import { hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { listenWithPlugin } from '../hardening/support'
import { EXECUTED, makeSecurityDocroot } from './docroot'

t.test('directories named *.php, and PATH_INFO after a non-PHP file', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const { root } = makeSecurityDocroot(t)
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenWithPlugin(t, { documentRoot: root, indexFiles: ['index.php'], server: { '.php': [php.options] } })
  for (const target of ['/x.php/y.txt', '/x.php/y.txt/', '/x.php/y.txt/z.php', '/uploads/pic.jpg/z.php', '/uploads/pic.jpg/.php', '/uploads/pic.jpg%2fz.php', '/x.php/', '/x.php']) {
    const res = await request(`${base}${target}`, { timeoutMs: 10_000 })
    const body = res.body.toString()
    t.notMatch(body, EXECUTED, `${target}: the file below did not run (${res.status})`)
    t.ok([301, 403, 404].includes(res.status), `${target}: not served as a script (${res.status})`)
  }
  // a real script inside the *.php directory still runs as itself
  const nested = await request(`${base}/x.php/y.php/extra`, { timeoutMs: 10_000 })
  t.equal(nested.status, 200)
  t.match(nested.body.toString(), `NESTED-PHP ${root}/x.php/y.php`, 'x.php/y.php ran, with /extra as PATH_INFO')
})
