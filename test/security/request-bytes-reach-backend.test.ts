// What the client sent reaches the backend as the same bytes. Node reads header values as
// latin1, one character per byte; the params must carry those bytes, not their UTF-8 encoding
// (`é`, C3 A9, once arrived as C3 83 C2 A9). A PHP script prints bin2hex() of what it got, so
// the comparison is byte for byte; lighttpd in front of the same php-cgi gets the same request
// and must hand PHP the same bytes.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { findBinary, hasPhpCgi, hasPhpFpm, startPhpCgi, startPhpFpm } from '../helpers/php'
import { hasLighttpd, startLighttpd } from '../helpers/lighttpd'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'

const HEX_PHP = `<?php
$out = [];
foreach (['HTTP_X_NAME', 'HTTP_COOKIE', 'REQUEST_URI', 'QUERY_STRING', 'SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'DOCUMENT_ROOT', 'APP_TEXT'] as $k) {
  if (isset($_SERVER[$k])) $out[$k] = bin2hex($_SERVER[$k]);
}
$out['cookie_c'] = isset($_COOKIE['c']) ? bin2hex($_COOKIE['c']) : null;
$out['get_q'] = isset($_GET['q']) ? bin2hex($_GET['q']) : null;
header('Content-Type: application/json');
echo json_encode($out);
`

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex')

/** A docroot with the script under a directory whose name is not ASCII. */
function docroot (t: TeardownHost): { root: string, dir: string } {
  const root = makeTempDir(t, 'ffcgi-bytes-')
  const dir = join(root, 'café')
  mkdirSync(dir)
  writeFileSync(join(dir, 'hex.php'), HEX_PHP)
  return { root, dir }
}

// `/café/hex.php/€?q=€`, percent-encoded as a browser sends it (Node refuses raw bytes in a target)
const TARGET = '/caf%C3%A9/hex.php/%E2%82%AC?q=%E2%82%AC'

async function hexOverRaw (port: number): Promise<Record<string, string | null>> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(Buffer.concat([
      Buffer.from(`GET ${TARGET} HTTP/1.1\r\nHost: bytes.test\r\nX-Name: `),
      Buffer.from('é€ñ', 'utf8'),
      Buffer.from('\r\nCookie: c='),
      Buffer.from('€uro', 'utf8'),
      Buffer.from('; d=1\r\nConnection: close\r\n\r\n')
    ]))
    const res = parseResponse(await conn.waitFor(() => false, 15_000))
    if (res?.status !== 200) throw new Error(`status ${String(res?.status)}: ${res?.body ?? ''}`)
    return JSON.parse(res.body) as Record<string, string | null>
  } finally {
    conn.destroy()
  }
}

t.test('header values, cookies and the target reach php-cgi as the client\'s bytes', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { root, dir } = docroot(t)
  const { port } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [php.options] } })
  const got = await hexOverRaw(port)
  t.equal(got.HTTP_X_NAME, hex('é€ñ'), 'header value: C3 A9 E2 82 AC C3 B1, unchanged')
  t.equal(got.HTTP_COOKIE, hex('c=€uro; d=1'), 'Cookie header unchanged')
  t.equal(got.cookie_c, hex('€uro'), '$_COOKIE holds the euro sign as sent')
  t.equal(got.REQUEST_URI, hex(TARGET), 'REQUEST_URI as sent')
  t.equal(got.QUERY_STRING, hex('q=%E2%82%AC'), 'QUERY_STRING as sent')
  t.equal(got.get_q, hex('€'), '$_GET decodes to the client\'s bytes')
  t.equal(got.SCRIPT_NAME, hex('/café/hex.php'), 'SCRIPT_NAME: the decoded path\'s UTF-8 bytes')
  t.equal(got.PATH_INFO, hex('/€'), 'PATH_INFO: the decoded bytes')
  t.equal(got.SCRIPT_FILENAME, hex(join(dir, 'hex.php')), 'SCRIPT_FILENAME names the file on disk')
  t.equal(got.DOCUMENT_ROOT, hex(root))

  await t.test('lighttpd hands PHP the same bytes', { skip: !hasLighttpd() && 'lighttpd missing' }, async (t) => {
    const lighttpd = await startLighttpd(t, { documentRoot: root, fastcgiServer: { '.php': [{ ...php.options }] } })
    const theirs = await hexOverRaw(lighttpd.port)
    for (const key of ['HTTP_X_NAME', 'HTTP_COOKIE', 'cookie_c', 'REQUEST_URI', 'QUERY_STRING', 'get_q', 'SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'DOCUMENT_ROOT']) {
      t.equal(got[key], theirs[key], `${key}: same bytes as lighttpd`)
    }
  })
})

t.test('reply.fastcgi params are text: sent as their UTF-8 bytes', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 1 })
  const { root, dir } = docroot(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: root, server: { '.php': [php.options] } })
  app.get('/via-reply', (_request, reply) => reply.fastcgi({ mapping: '.php', scriptFilename: join(dir, 'hex.php'), params: { APP_TEXT: 'Grüße €' } }))
  const res = await app.inject({ url: '/via-reply', headers: { 'x-name': Buffer.from('é', 'utf8').toString('latin1') } })
  t.equal(res.statusCode, 200)
  const got = JSON.parse(res.body) as Record<string, string>
  t.equal(got.APP_TEXT, hex('Grüße €'), 'application text as UTF-8')
  t.equal(got.HTTP_X_NAME, hex('é'), 'header bytes unchanged beside it')
  t.equal(got.SCRIPT_FILENAME, hex(join(dir, 'hex.php')), 'a scriptFilename with non-ASCII names its file')
})

t.test('the same bytes through php-fpm and through php-cgi spawned by the plugin', async (t) => {
  const { root } = docroot(t)
  const expected = { HTTP_X_NAME: hex('é€ñ'), cookie_c: hex('€uro'), SCRIPT_NAME: hex('/café/hex.php'), PATH_INFO: hex('/€') }
  await t.test('php-fpm', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
    const fpm = await startPhpFpm(t, { children: 1 })
    const { port } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [fpm.options] } })
    t.match(await hexOverRaw(port), expected)
  })
  await t.test('spawned php-cgi', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
    const socket = join(makeTempDir(t, 'ffcgi-bytes-sock-'), 'php.sock')
    const { port } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [{ binPath: findBinary('php-cgi') as string, socket, maxProcs: 1 }] } })
    t.match(await hexOverRaw(port), expected)
  })
})
