// Type tests for what the plugin adds to Fastify: fastify.fastcgi, reply.fastcgi(),
// request.fastcgiVariables, and the pool's typed events. Compiled by tsc, never run.
import Fastify from 'fastify'
import type { FastifyReply } from 'fastify'
import fastcgi from '../plugin'
import type { AuthorizerHook, BackendInfo, DisabledEvent, ExitedEvent, ProcState, ReplyFastcgiOptions, SpawnedEvent } from '../plugin'

async function main (): Promise<void> {
  const app = Fastify()
  await app.register(fastcgi, { server: { '.php': [{ socket: '/run/php.sock' }] } })

  // ---- fastify.fastcgi ----
  const backends: BackendInfo[] = app.fastcgi.backends()
  const state: ProcState | undefined = backends[0]?.state
  const pid: number | null | undefined = backends[0]?.pid
  const stats: Record<string, number> = app.fastcgi.stats()
  const text: string = app.fastcgi.prometheus()
  const hook: AuthorizerHook = app.fastcgi.authorizer('auth')
  app.get('/private', { preHandler: app.fastcgi.authorizer('/auth/') }, async () => 'ok')
  // @ts-expect-error stats are numbers
  const statsWrong: Record<string, string> = app.fastcgi.stats()
  // @ts-expect-error backends() takes no arguments
  app.fastcgi.backends('.php')
  // @ts-expect-error the decorator is read-only where it matters: pool cannot be replaced
  app.fastcgi.pool = app.fastcgi.pool

  // ---- the pool's events ----
  app.fastcgi.pool.on('spawned', (event: SpawnedEvent) => { const p: number = event.pid; void p })
  app.fastcgi.pool.on('exited', (event: ExitedEvent) => { const s: NodeJS.Signals | null = event.signal; void s })
  app.fastcgi.pool.on('disabled', (event: DisabledEvent) => { const r: 'failed' | 'overloaded' = event.reason; void r })
  app.fastcgi.pool.on('enabled', (event) => { const a: string = event.address; void a })
  // @ts-expect-error there is no such event
  app.fastcgi.pool.on('crashed', () => {})
  // @ts-expect-error a spawned event has no code
  app.fastcgi.pool.on('spawned', (event) => { const c: number = event.code; void c })

  // ---- reply.fastcgi() and request.fastcgiVariables ----
  app.get('/x', async (request, reply) => {
    const user: string | undefined = request.fastcgiVariables.REMOTE_USER
    // @ts-expect-error variables are strings
    const n: number = request.fastcgiVariables.COUNT
    const sent: FastifyReply | undefined = await reply.fastcgi({ mapping: '.php', scriptFilename: '/srv/www/index.php', params: { REMOTE_USER: user ?? '' } })
    void n
    return sent
  })
  app.get('/y', async (_request, reply) => await reply.fastcgi())
  const replyOptions: ReplyFastcgiOptions = { params: { A: 'b' } }
  app.get('/z', async (_request, reply) => {
    // @ts-expect-error params values are strings
    await reply.fastcgi({ params: { A: 1 } })
    // @ts-expect-error the options are an object
    await reply.fastcgi('.php')
    // @ts-expect-error no such option
    await reply.fastcgi({ backend: 'php' })
    return await reply.fastcgi(replyOptions)
  })
  void [state, pid, stats, text, hook, statsWrong]
}

export default main
