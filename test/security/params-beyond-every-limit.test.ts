// Params far beyond what lighttpd (400 above 64 KiB in all), nginx (500) or Caddy (truncation)
// accept: about 1 MiB of params reach the backend intact, split across PARAMS records that
// hold whole pairs. A 200 KiB cookie, a 100 KiB query string and a 150 KiB header reach a
// libfcgi program intact. PHP (php-cgi and php-fpm) decodes each PARAMS record on its own, so
// it gets any number of params of up to ~64 KiB each (here 16 of 60 KiB, 500 headers and a
// 4 KiB PATH_INFO), but no single param longer than a record: such a request is a 502 there,
// whatever the gateway does. The HTTP server must accept such heads (Node's maxHeaderSize is
// 16 KiB by default): that limit is the application's to set.
import t from 'tap'
import type { Test } from 'tap'
import http from 'node:http'
import { createHash } from 'node:crypto'
import { PHP_FIXTURES, hasPhpCgi, hasPhpFpm, startPhpCgi, startPhpFpm } from '../helpers/php'
import { buildCApp, hasLibfcgi, startCApp } from '../helpers/libfcgi'
import { faults, startFaultServer } from '../helpers/fault-server'
import { decodeNameValuePairs, RecordType } from '../../plugin/protocol'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'
import type { FastcgiHostOptions } from '../../plugin'

const md5 = (text: string): string => createHash('md5').update(text).digest('hex')
const KiB = 1024

interface Head { path: string, query: string, headers: Array<[string, string]> }

/** 200 KiB cookie, 100 KiB query, 150 KiB header, 500 small headers, 4 KiB PATH_INFO */
const huge: Head = {
  path: '/' + 'p'.repeat(4096),
  query: 'q=' + 'Q'.repeat(100 * KiB),
  headers: [['Cookie', 'big=' + 'c'.repeat(200 * KiB)], ['X-Large', 'h'.repeat(150 * KiB)], ...Array.from({ length: 500 }, (_v, i): [string, string] => [`X-Many-${i}`, `value-${i}`])]
}
/** about 1 MiB in all, no param over 60 KiB: 16 headers and a cookie of 60 KiB, a 50 KiB query (REQUEST_URI holds it too) */
const wide: Head = {
  path: '/' + 'p'.repeat(4096),
  query: 'q=' + 'Q'.repeat(50 * KiB),
  headers: [['Cookie', 'big=' + 'c'.repeat(60 * KiB)], ...Array.from({ length: 16 }, (_v, i): [string, string] => [`X-Wide-${i}`, String.fromCharCode(97 + i).repeat(60 * KiB)]), ...Array.from({ length: 500 }, (_v, i): [string, string] => [`X-Many-${i}`, `value-${i}`])]
}

async function send (port: number, script: string, head: Head): Promise<{ status: number, body: string }> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write([`GET ${script}${head.path}?${head.query} HTTP/1.1`, 'Host: limits.test', ...head.headers.map(([n, v]) => `${n}: ${v}`), 'Connection: close', '', ''].join('\r\n'))
    const res = parseResponse(await conn.waitFor(() => false, 30_000))
    return { status: res?.status ?? 0, body: res?.body ?? '' }
  } finally {
    conn.destroy()
  }
}

const bigHeads = { serverFactory: (handler: http.RequestListener) => http.createServer({ maxHeaderSize: 4 * 1024 * KiB }, handler) }

/** Every header of `head` and the query, as the CGI variables should hold them. */
function check (t: Test, vars: Record<string, string>, head: Head, script: string): void {
  t.equal(md5(vars.QUERY_STRING ?? ''), md5(head.query), `QUERY_STRING of ${head.query.length} bytes intact`)
  t.equal(vars.PATH_INFO, head.path, 'PATH_INFO intact')
  t.equal(vars.SCRIPT_NAME, script)
  let wrong = 0
  for (const [name, value] of head.headers) {
    const cgi = 'HTTP_' + name.toUpperCase().replace(/-/g, '_')
    if (vars[cgi] !== value) wrong++
  }
  t.equal(wrong, 0, `all ${head.headers.length} headers intact (the largest ${Math.max(...head.headers.map(([, v]) => v.length))} bytes)`)
}

t.test('the gateway sends everything, in PARAMS records of whole pairs', async (t) => {
  const backend = await startFaultServer(t, { ...faults.ok() })
  const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/app': [{ ...backend.options, checkLocal: false }] } }, bigHeads)
  for (const head of [wide, huge]) {
    const res = await send(port, '/app', head)
    t.equal(res.status, 200)
    const req = backend.requests[backend.requests.length - 1]
    t.ok((req?.paramsRecords ?? 0) > 8, `split across ${req?.paramsRecords ?? 0} PARAMS records`)
    check(t, Object.fromEntries(req?.params ?? []), head, '/app')
  }
  // PHP's rule, on the wire: every record of `wide` decodes on its own
  let alone = 0
  let total = 0
  const server2 = await startFaultServer(t, {
    onConnection: async (c) => {
      const req = await c.nextRequest()
      if (req === null) return
      for (const record of c.records) {
        if (record.type !== RecordType.PARAMS || record.content.length === 0) continue
        total++
        try { decodeNameValuePairs(record.content); alone++ } catch {}
      }
      await c.respond('Content-Type: text/plain\r\n\r\nok')
      await c.close()
    }
  })
  const second = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/app': [{ ...server2.options, checkLocal: false }] } }, bigHeads)
  t.equal((await send(second.port, '/app', wide)).status, 200)
  t.ok(total > 8 && alone === total, `each of the ${total} PARAMS records holds whole pairs`)
})

t.test('a libfcgi program gets a 200 KiB cookie, a 100 KiB query and a 150 KiB header intact', { skip: !hasLibfcgi() && 'gcc/libfcgi-dev missing' }, async (t) => {
  const env = await startCApp(t, buildCApp('env'))
  const { port } = await listenWithPlugin(t, { documentRoot: process.cwd(), server: { '/env': [{ ...env.options, checkLocal: false }] } }, bigHeads)
  const res = await send(port, '/env', huge)
  t.equal(res.status, 200)
  const vars: Record<string, string> = {}
  for (const line of res.body.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1)
  }
  check(t, vars, huge, '/env')
})

const phpBackends: Array<[string, boolean, (t: Test) => Promise<FastcgiHostOptions>]> = [
  ['php-cgi', hasPhpCgi(), async (t) => (await startPhpCgi(t, { children: 1 })).options],
  ['php-fpm', hasPhpFpm(), async (t) => (await startPhpFpm(t, { children: 1 })).options]
]
for (const [name, present, start] of phpBackends) {
  t.test(`${name}: about 1 MiB of params of up to 60 KiB each, intact`, { skip: !present && `${name} missing` }, async (t) => {
    const options = await start(t)
    const { port } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, server: { '.php': [options] } }, bigHeads)
    const res = await send(port, '/env.php', wide)
    t.equal(res.status, 200)
    check(t, (JSON.parse(res.body) as { server: Record<string, string> }).server, wide, '/env.php')
    const tooLong = await send(port, '/env.php', huge)
    t.equal(tooLong.status, 502, `a single param longer than a record is beyond ${name} (it drops the connection)`)
    const after = await send(port, '/env.php', { path: '', query: 'ok=1', headers: [] })
    t.equal(after.status, 200, 'and the next request is served')
  })
}
