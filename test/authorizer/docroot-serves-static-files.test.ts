// lighttpd's authorizer docroot: an approved request that nothing else routes is served as a
// static file from join(docroot, path), with @fastify/send (type, length, validators, Range).
// php-cgi runs the authorizer as auto_prepend_file before the file SCRIPT_FILENAME names.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('approved requests get files from the authorizer docroot; denied ones do not', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const docroot = makeTempDir(t, 'ffcgi-private-')
  mkdirSync(join(docroot, 'private'))
  mkdirSync(join(docroot, 'public', 'sub'), { recursive: true })
  writeFileSync(join(docroot, 'private', 'report.txt'), 'quarterly numbers\n')
  const gate = await startPhpCgi(t, { ini: { auto_prepend_file: join(PHP_FIXTURES, 'auth', 'by-token.php') } })
  // approves whatever it is asked (php-cgi itself would answer 404 for a missing SCRIPT_FILENAME)
  const always = await startFaultServer(t, faults.rawHeaders('Variable-REMOTE_USER: anyone\r\n\r\n', 'authorizer body'))
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '/private/': [{ ...gate.options, mode: 'authorizer', checkLocal: false, docroot }],
      '/public/': [{ ...always.options, mode: 'authorizer', checkLocal: false, docroot }]
    }
  })

  const ok = await app.inject({ url: '/private/report.txt?token=open' })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'quarterly numbers\n')
  t.match(ok.headers['content-type'], /^text\/plain/)
  t.equal(ok.headers['content-length'], '18')
  t.ok(ok.headers.etag, 'ETag')
  t.ok(ok.headers['last-modified'], 'Last-Modified')

  const range = await app.inject({ url: '/private/report.txt?token=open', headers: { range: 'bytes=0-8' } })
  t.equal(range.statusCode, 206)
  t.equal(range.body, 'quarterly')

  const denied = await app.inject({ url: '/private/report.txt?token=no' })
  t.equal(denied.statusCode, 403)
  t.equal(denied.body, 'bad token\n')

  const missing = await app.inject({ url: '/public/nothing.txt' })
  t.equal(missing.statusCode, 404, 'approved, but no such file: 404')
  t.notMatch(missing.body, 'authorizer body')

  const dir = await app.inject({ url: '/public/sub?x=1' })
  t.equal(dir.statusCode, 301, 'a directory is addressed with its slash')
  t.equal(dir.headers.location, '/public/sub/?x=1')
  const listing = await app.inject({ url: '/public/sub/' })
  t.equal(listing.statusCode, 403, 'no directory listings')
  t.equal(always.requests.length, 3, 'the authorizer was asked each time')
  t.equal(always.requests[0]?.role, 2, 'FCGI_AUTHORIZER')
  t.equal(always.requests[0]?.param('SCRIPT_FILENAME'), join(docroot, 'public', 'nothing.txt'), 'SCRIPT_FILENAME is based on its docroot')
  t.equal(always.requests[0]?.param('DOCUMENT_ROOT'), docroot)
  t.equal(always.requests[0]?.param('CONTENT_LENGTH'), undefined)
  t.equal(always.requests[0]?.stdin.length, 0)

  const elsewhere = await app.inject({ url: '/hello.php?token=open' })
  t.equal(elsewhere.statusCode, 404, 'outside the key: not served from the docroot')
})
