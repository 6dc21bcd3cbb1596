// Two clients as users write them ('auto' keep-alive and concurrency) on one php-fpm pool of
// 2 children: what two node:cluster workers or two containers do. Each must settle on the
// workers the other leaves it (one each), not on the capacity it saw while alone: holding two
// each, every process kept a connection waiting in php-fpm's accept queue for a worker the
// other one held, and the workers passed from client to client one turn at a time (most
// connects were reconnects after such a wait). When the other client stops, the one left wins
// the second worker back.
import t from 'tap'
import { join } from 'node:path'
import { hasPhpFpm, startPhpFpm, PHP_FIXTURES } from '../helpers/php'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'
import { KEEP_ALIVE_TURN } from '../../plugin/client/backend-client'
import type { BackendClient } from '../../plugin/client/backend-client'
import { MAX_HOLD } from '../../plugin/client/capacity-discovery'

const hello = responder(join(PHP_FIXTURES, 'hello.php'))

/** `count` loops sending the next request as soon as the last is answered, until stop() or 60 s. */
function load (client: BackendClient, count: number): { served: () => number, wrong: () => number, stop: () => Promise<void> } {
  let stopped = false
  let served = 0
  let wrong = 0
  const deadline = Date.now() + 60_000
  const loops = Array.from({ length: count }, async () => {
    while (!stopped && Date.now() < deadline) {
      const answer = await readWhole(await client.request(hello))
      if (answer.status === 200 && answer.body === 'hello from php\n') served++
      else wrong++
    }
  })
  return {
    served: () => served,
    wrong: () => wrong,
    stop: async () => {
      stopped = true
      await Promise.all(loops)
    }
  }
}

t.test('two clients on one pool of 2 settle on one worker each, and one alone wins both back', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  const settings = { keepAlive: 'auto' as const, maxConcurrency: 'auto' as const, keepAliveTurn: KEEP_ALIVE_TURN, keepAliveLinger: 100 }
  const a = makeClient(t, fpm.address, settings)
  const b = makeClient(t, fpm.address, settings)

  const loadA = load(a, 4)
  t.ok(await until(() => a.stats().capacity === 2, 10_000), 'alone, the first client finds both workers')

  const loadB = load(b, 4)
  const shared = await until(() => a.stats().limit === 1 && b.stats().limit === 1, 15_000)
  t.ok(shared, `each holds the one worker the other leaves it (limits ${a.stats().limit} and ${b.stats().limit})`)
  t.equal(a.stats().capacity, 2, 'the capacity seen stays known')

  // settled: each keeps one connection and reconnects about once per turn (its worker goes back
  // to the accept queue and comes back to it), instead of waiting for the other's worker
  const before = [a.stats().connections, b.stats().connections]
  const servedBefore = [loadA.served(), loadB.served()]
  const started = performance.now()
  // at least 1000 requests each, over at least 20 turns
  await until(() => loadA.served() - servedBefore[0] >= 1000 && loadB.served() - servedBefore[1] >= 1000 && performance.now() - started >= 20 * KEEP_ALIVE_TURN, 20_000)
  const turns = (performance.now() - started) / KEEP_ALIVE_TURN
  const opened = [a.stats().connections - before[0], b.stats().connections - before[1]]
  t.ok(loadA.served() - servedBefore[0] >= 1000 && loadB.served() - servedBefore[1] >= 1000, 'both are served')
  for (const [i, name] of ['first', 'second'].entries()) {
    t.ok(opened[i] <= 3 * turns + 10, `the ${name} client opened ${opened[i]} connections in ${turns.toFixed(1)} turns`)
  }

  await loadB.stop()
  t.ok(await until(() => a.stats().limit >= 2, 2 * MAX_HOLD), `alone again, the first client probes and wins the second worker back (limit ${a.stats().limit})`)
  await loadA.stop()
  t.equal(loadA.wrong() + loadB.wrong(), 0, 'every answer right')
})
