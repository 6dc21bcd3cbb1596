// indexFiles (lighttpd index-file.names): `/dir/` runs dir/index.php; `/dir` is a 301 to `/dir/`
// (query kept), as lighttpd's core does for a directory without its trailing slash.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('index files and the directory redirect', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, indexFiles: ['index.html', 'index.php'], server: { '.php': [php.options] } })

  const res = await app.inject({ url: '/dir/' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'dir/index.php\nSCRIPT_NAME=/dir/index.php\nPATH_INFO=\n')

  const redirect = await app.inject({ url: '/dir' })
  t.equal(redirect.statusCode, 301)
  t.equal(redirect.headers.location, '/dir/')
  const withQuery = await app.inject({ url: '/dir?a=1&b=2' })
  t.equal(withQuery.statusCode, 301)
  t.equal(withQuery.headers.location, '/dir/?a=1&b=2')

  t.equal((await app.inject({ url: '/info/' })).statusCode, 404, 'a directory without an index file is not the plugin\'s')
  t.equal((await app.inject({ url: '/info' })).statusCode, 404, 'nor is its name without the slash')

  const none = Fastify()
  t.teardown(() => none.close())
  await none.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  t.equal((await none.inject({ url: '/dir/' })).statusCode, 404, 'no indexFiles: a directory is not a script')
})
