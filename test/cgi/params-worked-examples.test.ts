import t from 'tap'
import { buildCgiParams, resolveScriptLocation } from '../../plugin/cgi/params'
import type { CgiRequestInfo } from '../../plugin/cgi/params'
import { classifyKey, findMapping, splitPrefixPath } from '../../plugin/cgi/mapping'
import { normalizeRequestTarget } from '../../plugin/cgi/url-path'

// Reference 2.5, document-root /srv/www. Rows where the core answers 404 are the Fastify
// layer's business; here they show up as "no textual match".

function request (rawTarget: string): CgiRequestInfo {
  const { path, query } = normalizeRequestTarget(rawTarget)
  return {
    method: 'GET', rawTarget, path, query, httpVersion: '1.1', headers: [['Host', 'www.example.org']],
    contentLength: 0, remoteAddress: '127.0.0.1', remotePort: 40000, serverAddress: '127.0.0.1',
    serverPort: 8080, https: false, serverSoftware: 'fastify-fastcgi'
  }
}

interface Expected {
  SCRIPT_NAME: string
  PATH_INFO?: string
  PATH_TRANSLATED?: string
  SCRIPT_FILENAME: string
  DOCUMENT_ROOT?: string
  REQUEST_URI?: string
}

function env (rawTarget: string, split: { scriptName: string, pathInfo: string }, host: { docroot?: string, broken?: boolean, strip?: string } = {}): Record<string, string> {
  const loc = resolveScriptLocation({
    ...split,
    documentRoot: '/srv/www',
    docroot: host.docroot,
    brokenScriptfilename: host.broken ?? false
  })
  return Object.fromEntries(buildCgiParams(request(rawTarget), loc, { role: 'responder', stripRequestUri: host.strip }))
}

function check (t: tap.Test, got: Record<string, string>, expected: Expected): void {
  t.equal(got.SCRIPT_NAME, expected.SCRIPT_NAME, 'SCRIPT_NAME')
  t.equal(got.PATH_INFO, expected.PATH_INFO, 'PATH_INFO')
  t.equal(got.PATH_TRANSLATED, expected.PATH_TRANSLATED, 'PATH_TRANSLATED')
  t.equal(got.SCRIPT_FILENAME, expected.SCRIPT_FILENAME, 'SCRIPT_FILENAME')
  t.equal(got.DOCUMENT_ROOT, expected.DOCUMENT_ROOT ?? '/srv/www', 'DOCUMENT_ROOT')
  if (expected.REQUEST_URI !== undefined) t.equal(got.REQUEST_URI, expected.REQUEST_URI, 'REQUEST_URI')
}

t.test('suffix key .php', async (t) => {
  t.test('check-local on, /index.php (file exists)', async (t) => {
    check(t, env('/index.php', { scriptName: '/index.php', pathInfo: '' }), {
      SCRIPT_NAME: '/index.php', SCRIPT_FILENAME: '/srv/www/index.php'
    })
  })
  t.test('check-local on, /index.php/extra/x?q=1 (filesystem split)', async (t) => {
    const got = env('/index.php/extra/x?q=1', { scriptName: '/index.php', pathInfo: '/extra/x' })
    check(t, got, {
      SCRIPT_NAME: '/index.php', PATH_INFO: '/extra/x', PATH_TRANSLATED: '/srv/www/extra/x', SCRIPT_FILENAME: '/srv/www/index.php'
    })
    t.equal(got.QUERY_STRING, 'q=1')
  })
  t.test('check-local on, /missing.php: the key matches, the file check answers 404', async (t) => {
    t.equal(findMapping([classifyKey('.php')], '/missing.php')?.key, '.php')
  })
  t.test('check-local off, /missing.php', async (t) => {
    check(t, env('/missing.php', { scriptName: '/missing.php', pathInfo: '' }), {
      SCRIPT_NAME: '/missing.php', SCRIPT_FILENAME: '/srv/www/missing.php'
    })
  })
  t.test('check-local off, /missing.php/x: no textual match, so 404 without a local file', async (t) => {
    t.equal(findMapping([classifyKey('.php')], normalizeRequestTarget('/missing.php/x').path), undefined)
  })
  t.test('check-local off, /a%20b.php is decoded', async (t) => {
    const got = env('/a%20b.php', { scriptName: normalizeRequestTarget('/a%20b.php').path, pathInfo: '' })
    check(t, got, { SCRIPT_NAME: '/a b.php', SCRIPT_FILENAME: '/srv/www/a b.php' })
    t.equal(got.REQUEST_URI, '/a%20b.php', 'REQUEST_URI stays raw')
  })
  t.test('broken-scriptfilename, /index.php gets a trailing slash', async (t) => {
    check(t, env('/index.php', { scriptName: '/index.php', pathInfo: '' }, { broken: true }), {
      SCRIPT_NAME: '/index.php', SCRIPT_FILENAME: '/srv/www/index.php/'
    })
  })
  t.test('broken-scriptfilename, /index.php/x/y', async (t) => {
    check(t, env('/index.php/x/y', { scriptName: '/index.php', pathInfo: '/x/y' }, { broken: true }), {
      SCRIPT_NAME: '/index.php', PATH_INFO: '/x/y', PATH_TRANSLATED: '/srv/www/x/y', SCRIPT_FILENAME: '/srv/www/index.php/x/y'
    })
  })
  t.test('docroot /remote/www, strip-request-uri /app1/, check-local off', async (t) => {
    check(t, env('/app1/index.php?a=1', { scriptName: '/app1/index.php', pathInfo: '' }, { docroot: '/remote/www', strip: '/app1/' }), {
      SCRIPT_NAME: '/app1/index.php',
      SCRIPT_FILENAME: '/remote/www/app1/index.php',
      DOCUMENT_ROOT: '/remote/www',
      REQUEST_URI: '/index.php?a=1'
    })
  })
})

t.test('prefix keys, check-local off', async (t) => {
  const rows: Array<[key: string, target: string, fix: boolean, expected: Expected | undefined]> = [
    ['/app', '/app', false, { SCRIPT_NAME: '/app', SCRIPT_FILENAME: '/srv/www/app' }],
    ['/app', '/app/', false, { SCRIPT_NAME: '/app', PATH_INFO: '/', PATH_TRANSLATED: '/srv/www/', SCRIPT_FILENAME: '/srv/www/app' }],
    ['/app', '/app/foo/bar', false, { SCRIPT_NAME: '/app', PATH_INFO: '/foo/bar', PATH_TRANSLATED: '/srv/www/foo/bar', SCRIPT_FILENAME: '/srv/www/app' }],
    ['/app', '/application/x', false, { SCRIPT_NAME: '/application', PATH_INFO: '/x', PATH_TRANSLATED: '/srv/www/x', SCRIPT_FILENAME: '/srv/www/application' }],
    ['/app/', '/app/', false, { SCRIPT_NAME: '/app/', SCRIPT_FILENAME: '/srv/www/app/' }],
    ['/app/', '/app/foo', false, { SCRIPT_NAME: '/app/foo', SCRIPT_FILENAME: '/srv/www/app/foo' }],
    ['/app/', '/app/foo/bar', false, { SCRIPT_NAME: '/app/foo', PATH_INFO: '/bar', PATH_TRANSLATED: '/srv/www/bar', SCRIPT_FILENAME: '/srv/www/app/foo' }],
    ['/app/', '/app', false, undefined],
    ['/', '/', false, { SCRIPT_NAME: '/', SCRIPT_FILENAME: '/srv/www/' }],
    ['/', '/abc', false, { SCRIPT_NAME: '/abc', SCRIPT_FILENAME: '/srv/www/abc' }],
    ['/', '/abc/def/ghi', false, { SCRIPT_NAME: '/abc', PATH_INFO: '/def/ghi', PATH_TRANSLATED: '/srv/www/def/ghi', SCRIPT_FILENAME: '/srv/www/abc' }],
    ['/', '/', true, { SCRIPT_NAME: '', PATH_INFO: '/', PATH_TRANSLATED: '/srv/www/', SCRIPT_FILENAME: '/srv/www/' }],
    ['/', '/abc/def/ghi', true, { SCRIPT_NAME: '', PATH_INFO: '/abc/def/ghi', PATH_TRANSLATED: '/srv/www/abc/def/ghi', SCRIPT_FILENAME: '/srv/www/' }]
  ]
  for (const [key, target, fix, expected] of rows) {
    t.test(`${key} ${target}${fix ? ' fix-root-scriptname' : ''}`, async (t) => {
      const path = normalizeRequestTarget(target).path
      const mapping = findMapping([classifyKey(key)], path)
      if (expected === undefined) {
        t.equal(mapping, undefined, 'not matched: the core answers 301 or 404')
        return
      }
      t.equal(mapping?.key, key)
      check(t, env(target, splitPrefixPath(key, path, fix)), expected)
    })
  }
})

t.test('prefix key with check-local on: the filesystem split is used as given', async (t) => {
  check(t, env('/prefix.fcgi/foo/bar', { scriptName: '/prefix.fcgi', pathInfo: '/foo/bar' }), {
    SCRIPT_NAME: '/prefix.fcgi', PATH_INFO: '/foo/bar', PATH_TRANSLATED: '/srv/www/foo/bar', SCRIPT_FILENAME: '/srv/www/prefix.fcgi'
  })
})
