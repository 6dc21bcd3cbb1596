// A bad option fails register() with FST_FASTCGI_INVALID_OPTION, naming the option's path and,
// for a misspelt name, suggesting the right one.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'

/** `server[".php"][0].binPth`, in either quote style */
function at (key: string, rest = ''): RegExp {
  const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`server\\[["']${esc(key)}["']\\]${esc(rest)}`)
}

async function registerError (options: unknown): Promise<Error & { code?: string }> {
  const app = Fastify()
  try {
    await app.register(fastcgi, options as never)
    await app.ready()
  } catch (err) {
    return err as Error & { code?: string }
  } finally {
    await app.close().catch(() => {})
  }
  throw new Error(`register() accepted ${JSON.stringify(options)}`)
}

t.test('misspelt host option: path and suggestion', async (t) => {
  const err = await registerError({ server: { '.php': [{ host: '127.0.0.1', port: 9000, binPth: '/usr/bin/php-cgi' }] } })
  t.equal(err.code, 'FST_FASTCGI_INVALID_OPTION')
  t.match(err.message, at('.php', '[0].binPth'))
  t.match(err.message, 'binPath')
})

t.test("lighttpd's hyphenated name suggests the camelCase one", async (t) => {
  const err = await registerError({ server: { '/app/': { app: { socket: '/tmp/x.sock', 'check-local': false } } } })
  t.equal(err.code, 'FST_FASTCGI_INVALID_OPTION')
  t.match(err.message, /server\[["']\/app\/["']\]\.app(\.check-local|\[["']check-local["']\])/)
  t.match(err.message, 'checkLocal')
})

t.test('socket together with port', async (t) => {
  const err = await registerError({ server: { '.php': [{ socket: '/tmp/php.sock', port: 9000 }] } })
  t.equal(err.code, 'FST_FASTCGI_INVALID_OPTION')
  t.match(err.message, at('.php', '[0]'))
  t.match(err.message, /socket/)
  t.match(err.message, /port/)
})

t.test('wrong types and top-level names', async (t) => {
  const checks: Array<[unknown, string | RegExp]> = [
    [{ server: { '.php': [{ host: '127.0.0.1', port: 9000, checkLocal: 'yes' }] } }, at('.php', '[0].checkLocal')],
    [{ server: { '.php': [{ host: '127.0.0.1', port: 70000 }] } }, at('.php', '[0].port')],
    [{ documentroot: '/srv', server: { '.php': [{ host: '127.0.0.1', port: 9000 }] } }, /documentroot.*documentRoot/],
    [{ balance: 'random', server: { '.php': [{ host: '127.0.0.1', port: 9000 }] } }, 'balance'],
    [{ server: {} }, 'server'],
    [{ server: { '.php': { host: '127.0.0.1', port: 9000 } } }, at('.php')]
  ]
  for (const [options, where] of checks) {
    const err = await registerError(options)
    t.equal(err.code, 'FST_FASTCGI_INVALID_OPTION', JSON.stringify(options))
    t.match(err.message, where)
  }
})
