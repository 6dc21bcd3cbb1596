// Several Set-Cookie headers from the backend reach the client as separate headers, in order.
import t from 'tap'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { request } from '../helpers/http'
import { listenGateway } from '../helpers/listen'

t.test('several Set-Cookie survive', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const res = await request(`${base}/status.php?cookies=5`)
  t.equal(res.status, 200)
  t.same(res.headers['set-cookie'], ['c1=v1; Path=/', 'c2=v2; Path=/', 'c3=v3; Path=/', 'c4=v4; Path=/', 'c5=v5; Path=/'])
  const lines = []
  for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]?.toLowerCase() === 'set-cookie') lines.push(res.rawHeaders[i + 1])
  t.equal(lines.length, 5, 'five separate header lines on the wire')
})
