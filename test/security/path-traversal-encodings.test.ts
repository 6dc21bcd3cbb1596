// Path traversal in every spelling: dot-segments plain and percent-encoded (either case, mixed),
// encoded slashes and backslashes, overlong UTF-8 dots and slashes, double encoding, NUL,
// absolute-form targets, `;` parameters. Whatever the target: no script outside the document
// root runs, and every SCRIPT_FILENAME / PATH_TRANSLATED a backend is given lies inside the
// document root (checked through php-cgi, and with checkLocal off through a backend that
// echoes its params), or the backend is not contacted at all.
import t from 'tap'
import { hasPhpCgi, startPhpCgi } from '../helpers/php'
import { faults, startFaultServer } from '../helpers/fault-server'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'
import { OUTSIDE, makeSecurityDocroot } from './docroot'

const TRAVERSALS = [
  '/../outside.php', '/../../outside.php', '/%2e%2e/outside.php', '/%2E%2E/outside.php', '/.%2e/outside.php', '/%2e./outside.php',
  '/..%2foutside.php', '/..%2Foutside.php', '/%2e%2e%2foutside.php', '/%2e%2e%2Foutside.php', '/..%5coutside.php', '/..%5Coutside.php',
  '/..\\outside.php', '/%c0%ae%c0%ae/outside.php', '/%c0%ae%c0%ae%c0%afoutside.php', '/%e0%80%ae%e0%80%ae/outside.php',
  '/%c0%2e%c0%2e/outside.php', '/%252e%252e/outside.php', '/%252e%252e%252foutside.php', '/x/../../outside.php', '/x/..%2f..%2foutside.php',
  '/./../outside.php', '//../outside.php', '/.../outside.php', '/hello.php/../../outside.php', '/env.php/..%2f..%2f..%2foutside.php',
  '/%00/../outside.php', '/..;/outside.php', '/%2e%2e;/outside.php', '/../outside/secret.php', '/%2e%2e/outside/secret.php',
  '/uploads/..%2f..%2foutside/secret.php', 'http://example.org/../outside.php', 'http://example.org/%2e%2e/outside.php',
  '/env.php%00.txt', '/env.php%00', '/hello.php%00/../../outside.php', '/%u002e%u002e/outside.php', '/..%c0%afoutside.php',
  '/..%25%32%66outside.php', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/../../../../etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd'
]
// these normalize to a script inside the document root: they may run, but only that script
const INSIDE = ['/../env.php', '/%2e%2e/env.php', '/x/..%2f..%2fenv.php', '/%2e%2e/%2e%2e/env.php/a/%2e%2e/p', '/uploads/../env.php']

async function ask (port: number, target: string): Promise<{ status: number, body: string }> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(`GET ${target} HTTP/1.1\r\nHost: sec.test\r\nConnection: close\r\n\r\n`)
    const text = await conn.waitFor(() => false, 10_000)
    const res = parseResponse(text)
    return { status: res?.status ?? 0, body: res?.body ?? '' }
  } finally {
    conn.destroy()
  }
}

t.test('php-cgi with checkLocal (the default)', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const { root } = makeSecurityDocroot(t)
  const php = await startPhpCgi(t, { children: 2 })
  const { port } = await listenWithPlugin(t, { documentRoot: root, server: { '.php': [php.options] } })
  for (const target of TRAVERSALS) {
    const res = await ask(port, target)
    t.notMatch(res.body, OUTSIDE, `${target}: nothing outside the document root ran`)
    t.ok([400, 403, 404].includes(res.status), `${target}: refused or not found (${res.status})`)
  }
  for (const target of INSIDE) {
    const res = await ask(port, target)
    t.equal(res.status, 200, `${target}: the script inside runs`)
    const server = (JSON.parse(res.body) as { server: Record<string, string> }).server
    t.equal(server.SCRIPT_FILENAME, `${root}/env.php`, `${target}: SCRIPT_FILENAME is the document root's env.php`)
    if (server.PATH_TRANSLATED !== undefined) t.ok(server.PATH_TRANSLATED.startsWith(`${root}/`), `${target}: PATH_TRANSLATED inside`)
  }
})

t.test('checkLocal off: whatever the backend is given stays inside the document root', async (t) => {
  const { root } = makeSecurityDocroot(t)
  const backend = await startFaultServer(t, { ...faults.echoParams() })
  const { port } = await listenWithPlugin(t, {
    documentRoot: root,
    server: {
      '/app': [{ ...backend.options, checkLocal: false }],
      '.php': [{ ...backend.options, checkLocal: false }]
    }
  })
  let contacted = 0
  for (const target of [...TRAVERSALS, ...INSIDE, ...TRAVERSALS.map((p) => p.startsWith('/') ? `/app${p}` : p)]) {
    const before = backend.requests.length
    const res = await ask(port, target)
    t.notMatch(res.body, OUTSIDE, `${target}: nothing outside ran`)
    if (backend.requests.length === before) {
      t.ok(res.status >= 400 && res.status < 500, `${target}: backend not contacted, client error ${res.status}`)
      continue
    }
    contacted++
    const req = backend.requests[backend.requests.length - 1]
    const scriptFilename = req?.param('SCRIPT_FILENAME') ?? ''
    const translated = req?.param('PATH_TRANSLATED')
    t.ok(scriptFilename === root || scriptFilename.startsWith(`${root}/`), `${target}: SCRIPT_FILENAME ${scriptFilename} inside`)
    t.notOk(/\/\.\.?(\/|$)|\0/.test(scriptFilename), `${target}: no dot-segment or NUL in SCRIPT_FILENAME`)
    if (translated !== undefined) t.ok(translated.startsWith(`${root}/`) && !/\/\.\.?(\/|$)|\0/.test(translated), `${target}: PATH_TRANSLATED ${translated} inside`)
    t.equal(req?.param('DOCUMENT_ROOT'), root)
  }
  t.ok(contacted > 10, `the backend was asked ${contacted} times (the rest were refused before it)`)
})
