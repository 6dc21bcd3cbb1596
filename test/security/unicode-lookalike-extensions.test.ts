// Names that only look like `.php` (Cyrillic or Greek letters, fullwidth forms, another case,
// zero-width and no-break spaces, a trailing dot or space, combining marks) are not routed to
// PHP: the suffix match is byte-exact, as lighttpd's. The files exist and hold PHP code; none
// of it runs, and the backend is never asked.
import t from 'tap'
import { hasPhpCgi, startPhpCgi } from '../helpers/php'
import { faults, startFaultServer } from '../helpers/fault-server'
import { request } from '../helpers/http'
import { listenWithPlugin } from '../hardening/support'
import { EXECUTED, LOOK_ALIKES, makeSecurityDocroot } from './docroot'

const encode = (name: string): string => '/' + encodeURIComponent(name)

t.test('look-alike extensions through php-cgi', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const { root } = makeSecurityDocroot(t)
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [php.options] } })
  for (const name of LOOK_ALIKES) {
    const res = await request(`${base}${encode(name)}`, { timeoutMs: 10_000 })
    t.equal(res.status, 404, `${JSON.stringify(name)}: not ours, 404`)
    t.notMatch(res.body.toString(), EXECUTED, `${JSON.stringify(name)}: not executed`)
    t.notMatch(res.body.toString(), '<?php', `${JSON.stringify(name)}: nor its source shown`)
  }
  const real = await request(`${base}/hello.php`, { timeoutMs: 10_000 })
  t.equal(real.status, 200, 'the real .php still runs')
})

t.test('the backend is never asked, with checkLocal off too', async (t) => {
  const { root } = makeSecurityDocroot(t)
  const backend = await startFaultServer(t, { ...faults.echoParams() })
  const { base } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [{ ...backend.options, checkLocal: false }] } })
  for (const name of LOOK_ALIKES) {
    const res = await request(`${base}${encode(name)}`, { timeoutMs: 10_000 })
    t.equal(res.status, 404, `${JSON.stringify(name)}: 404`)
  }
  t.equal(backend.requests.length, 0, 'no look-alike reached the backend')
  // mapExtensions maps byte-exact suffixes too
  const mapped = await listenWithPlugin(t, { documentRoot: root, mapExtensions: { '.php3': '.php' }, server: { '.php': [{ ...backend.options, checkLocal: false }] } })
  const lookAlike3 = await request(`${mapped.base}/x.\u0440hp3`, { timeoutMs: 10_000 })
  t.equal(lookAlike3.status, 404, 'a look-alike of a mapped extension is not mapped')
  t.equal(backend.requests.length, 0)
})
