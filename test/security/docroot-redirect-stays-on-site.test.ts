// An approving authorizer's docroot redirects a directory to its trailing slash. The Location
// must be the normalized path, not the request-target as sent: `//evil.example/../public/sub`
// names the docroot's /public/sub, and a Location of `//evil.example/../public/sub/` would send
// the browser to evil.example (an open redirect on the site's own name).
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/tmp'
import { startFaultServer, faults } from '../helpers/fault-server'
import { listenWithPlugin, parseResponse, rawConnect } from '../hardening/support'

async function ask (port: number, target: string): Promise<{ status: number, location: string | undefined }> {
  const conn = await rawConnect({ teardown: () => {} }, port)
  try {
    await conn.write(`GET ${target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n`)
    const res = parseResponse(await conn.waitFor(() => false, 10_000))
    return { status: res?.status ?? 0, location: res?.headers.location }
  } finally {
    conn.destroy()
  }
}

t.test('a directory redirect from the authorizer docroot stays on the site', async (t) => {
  const docroot = makeTempDir(t, 'ffcgi-redir-')
  mkdirSync(join(docroot, 'public', 'sub'), { recursive: true })
  const always = await startFaultServer(t, faults.rawHeaders('Status: 200\r\n\r\n', ''))
  const { port } = await listenWithPlugin(t, {
    documentRoot: docroot,
    server: { '/public/': [{ ...always.options, mode: 'authorizer', checkLocal: false, docroot }] }
  })

  const plain = await ask(port, '/public/sub?x=1')
  t.equal(plain.status, 301)
  t.equal(plain.location, '/public/sub/?x=1', 'the usual redirect is unchanged')

  for (const target of ['//evil.example/../public/sub', '//evil.example/%2e%2e/public/sub?x=1', '/\\evil.example/../public/sub', '/public/./sub']) {
    const res = await ask(port, target)
    t.equal(res.status, 301, `${target}: redirected to the directory`)
    t.ok(res.location !== undefined && /^\/[^/\\]/.test(res.location), `${target}: Location ${String(res.location)} is a path on this site`)
    t.notMatch(res.location ?? '', /evil/, `${target}: Location does not name another host`)
  }
})
