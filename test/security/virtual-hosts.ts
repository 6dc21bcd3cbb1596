// Shared by the virtual-host tests: admin.example guarded by an authorizer and every other host
// the open site, both on one backend; and a GET over HTTP/2 with the headers a test chooses.
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyPluginAsync } from 'fastify'
import fastcgi from '../../plugin'
import type { BackendOptions } from '../helpers/proc'
import type { TeardownHost } from '../helpers/tmp'

export interface GuardedSite {
  /** the authorizer's key on admin.example ('/' guards everything, '/secret/' a part) */
  readonly guardKey: string
  readonly gate: { readonly options: BackendOptions }
  readonly backend: { readonly options: BackendOptions }
  readonly http2?: boolean
}

/** admin.example's registration (authorizer + .php) and the open one (.php), as one plugin. */
function guardedAndOpen (site: GuardedSite): FastifyPluginAsync {
  const php = [{ ...site.backend.options, checkLocal: false }]
  return async (root) => {
    await root.register(async (scope) => {
      await scope.register(fastcgi, {
        documentRoot: process.cwd(),
        constraints: { host: 'admin.example' },
        server: { [site.guardKey]: [{ ...site.gate.options, mode: 'authorizer', checkLocal: false }], '.php': php }
      })
    })
    await root.register(async (scope) => {
      await scope.register(fastcgi, { documentRoot: process.cwd(), server: { '.php': php } })
    })
  }
}

/** Both sites listening on 127.0.0.1 (HTTP/1.1, or HTTP/2 without TLS); the app closes at teardown. */
export async function listenGuardedAndOpen (t: TeardownHost, site: GuardedSite): Promise<{ port: number }> {
  const plugin = guardedAndOpen(site)
  // two branches: Fastify's http and http2 instances have no common register() type
  if (site.http2 === true) {
    const app = Fastify({ http2: true })
    t.teardown(() => app.close())
    await app.register(plugin)
    await app.listen({ host: '127.0.0.1', port: 0 })
    return { port: portOf(app.server.address()) }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(plugin)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: portOf(app.server.address()) }
}

function portOf (address: string | AddressInfo | null): number {
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return address.port
}

export interface H2Answer { status: number, body: string }

/** GET over `session` with `headers` added to the request's (bounded: 10 s). */
export function h2get (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ...headers }, { endStream: true })
    let status = 0
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (h) => { status = Number(h[':status']) })
    stream.on('data', (c: string) => { body += c })
    stream.on('end', () => resolve({ status, body }))
    stream.on('error', reject)
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Error('h2 request timed out')) }, 10_000)
    stream.on('close', () => clearTimeout(timer))
  })
}

/** An HTTP/2 session to `port`, closed at teardown. */
export function h2session (t: TeardownHost, port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  return session
}
