// A Fastify server with the plugin, listening on a loopback port and closed at teardown: the
// setup most tests over real HTTP share.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiPluginOptions } from '../../plugin'
import type { TeardownHost } from './tmp'

export interface ListeningGateway {
  readonly app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  readonly base: string
}

export async function listenGateway (t: TeardownHost, options: FastcgiPluginOptions): Promise<ListeningGateway> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}
