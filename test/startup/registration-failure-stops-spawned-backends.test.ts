// A registration that fails after the pool has started its processes (here: the status route
// collides with a route of the application) must not leave them running after app.close().
import t from 'tap'
import path from 'node:path'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { until } from '../helpers/backend-client'

/** Our children named `comm` (the spawned backends: each leads its own process group). */
function childrenNamed (comm: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (name === comm && Number(fields[1]) === process.pid && fields[0] !== 'Z') out.push(Number(entry))
  }
  return out
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('spawned processes stop when the registration fails after they started', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t)
  const socket = path.join(dir, 'php.sock')
  const app = Fastify()
  let pids: number[] = []
  t.teardown(async () => {
    for (const pid of pids) try { process.kill(-pid, 'SIGKILL') } catch {}
    await app.close()
  })
  const before = new Set(childrenNamed('php-cgi'))
  app.get('/server-status', async () => 'the application\'s own')
  app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    statusUrl: '/server-status',
    server: { '.php': { php: { binPath: findBinary('php-cgi') as string, socket, minProcs: 1, maxProcs: 1 } } }
  })
  await t.rejects(async () => { await app.ready() }, /already declared/, 'the colliding route fails the registration')
  pids = childrenNamed('php-cgi').filter((pid) => !before.has(pid))
  t.ok(pids.length > 0, 'the pool had spawned its process')
  await app.close()
  t.ok(await until(() => pids.every((pid) => !alive(pid)), 3000), `no spawned process left after app.close() (${pids.join(', ')})`)
  t.ok(await until(() => !existsSync(`${socket}-0`), 1000), 'the socket file is removed')
})
