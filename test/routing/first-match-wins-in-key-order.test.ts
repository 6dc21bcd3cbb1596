// fastcgi.server keys are tried in order and the first match wins (reference 2.2): the same
// request goes to a different backend when the keys swap places.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('first matching key wins, in the order the keys are given', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  // php-cgi passes its own environment into $_SERVER: BACKEND tells who answered
  const [a, b] = await Promise.all([startPhpCgi(t, { env: { BACKEND: 'a' } }), startPhpCgi(t, { env: { BACKEND: 'b' } })])
  const backendFor = async (server: Record<string, Array<Record<string, unknown>>>, url: string): Promise<string> => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server })
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    return (JSON.parse(res.body) as { server: { BACKEND: string } }).server.BACKEND
  }
  t.equal(await backendFor({ '/info/': [{ ...a.options, checkLocal: false }], '.php': [b.options] }, '/info/x.php'), 'a', 'prefix first')
  t.equal(await backendFor({ '.php': [b.options], '/info/': [{ ...a.options, checkLocal: false }] }, '/info/x.php'), 'b', 'suffix first')
  t.equal(await backendFor({ '.php': [b.options], '/info/': [{ ...a.options, checkLocal: false }] }, '/info/x.php/more'), 'a',
    'the suffix key cannot take /info/x.php/more at the first stage, the prefix key can')
  t.equal(await backendFor({ '/env': [{ ...a.options, checkLocal: false }], '/env.php': [{ ...b.options, checkLocal: false }] }, '/env.php'), 'a', 'a shorter prefix given first wins over a longer one')
})
