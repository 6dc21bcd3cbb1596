// A backend shared by several clients (node:cluster workers, PM2, lighttpd, a cron job): a
// prefork worker stays with a kept connection, so a client under continuous load would keep
// every worker for as long as its load lasts, and another client's request would wait in the
// accept queue until its read timeout. Kept connections take turns: one that has been open for
// KEEP_ALIVE_TURN is closed when it comes back, and its worker takes the oldest connection
// waiting, whoever's it is.
import t from 'tap'
import { join } from 'node:path'
import { hasPhpFpm, startPhpFpm, PHP_FIXTURES } from '../helpers/php'
import { makeClient, readWhole, responder } from '../helpers/backend-client'
import { KEEP_ALIVE_TURN } from '../../plugin/client/backend-client'

t.test('a second client is served while the first keeps both php-fpm workers busy', { skip: !hasPhpFpm() && 'php-fpm missing' }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  const hello = responder(join(PHP_FIXTURES, 'hello.php'))
  const busy = makeClient(t, fpm.address, { keepAlive: true, maxConcurrency: 2, keepAliveLinger: 60_000, keepAliveTurn: KEEP_ALIVE_TURN })
  let stop = false
  let served = 0
  // four loops on two slots, each sending its next request the moment the last one is
  // answered, for at most 20 s: requests always wait for a slot, so no connection is ever idle
  const loopDeadline = Date.now() + 20_000
  const loops = Array.from({ length: 4 }, async () => {
    while (!stop && Date.now() < loopDeadline) {
      const answer = await readWhole(await busy.request(hello))
      if (answer.status === 200) served++
    }
  })
  while (served < 200 && Date.now() < loopDeadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(served >= 200, 'the first client has both workers under continuous load')

  t.comment(JSON.stringify(busy.stats()))
  const other = makeClient(t, fpm.address, { keepAlive: true, maxConcurrency: 2, readTimeout: 5000, keepAliveTurn: KEEP_ALIVE_TURN })
  for (let i = 0; i < 3; i++) {
    const started = Date.now()
    const answer = await readWhole(await other.request(hello))
    t.equal(answer.body, 'hello from php\n', `the second client is served (request ${i + 1})`)
    t.ok(Date.now() - started < 5000, `within its 5 s read timeout (a turn is ${KEEP_ALIVE_TURN} ms)`)
  }
  t.comment(JSON.stringify(busy.stats()))
  stop = true
  await Promise.all(loops)
  t.ok(busy.stats().connections > 2, 'the first client reconnected when its connections had had their turn')
})
