// maxConcurrency 'auto' against php-fpm, which keeps connections but does not report
// FCGI_MAX_CONNS: the client finds pm.max_children from what php-fpm does, and then holds its
// requests there, so that they reuse kept connections instead of queueing in php-fpm's accept
// queue (where each one would cost a connect and a close).
import t from 'tap'
import { join } from 'node:path'
import { hasPhpFpm, startPhpFpm, PHP_FIXTURES } from '../helpers/php'
import { makeClient, readWhole, responder, until } from '../helpers/backend-client'
import type { BackendClient } from '../../plugin/client/backend-client'

const skip = !hasPhpFpm() && 'php-fpm missing'

/** `rounds` bursts of `burst` requests at once; every answer checked. */
async function bursts (t: { fail: (message: string) => void }, client: BackendClient, rounds: number, burst: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const answers = await Promise.all(Array.from({ length: burst }, async () => await readWhole(await client.request(responder(join(PHP_FIXTURES, 'hello.php'))))))
    const wrong = answers.filter((a) => a.status !== 200 || a.body !== 'hello from php\n').length
    if (wrong > 0) t.fail(`round ${round}: ${wrong} of ${burst} answers wrong, such as ${JSON.stringify(answers.find((a) => a.status !== 200 || a.body !== 'hello from php\n'))}`)
  }
}

for (const children of [2, 3]) {
  t.test(`php-fpm with ${children} children: the capacity found is ${children}, and requests stay there`, { skip }, async (t) => {
    const fpm = await startPhpFpm(t, { children })
    const client = makeClient(t, fpm.address, { keepAlive: 'auto', maxConcurrency: 'auto', keepAliveLinger: 1000 })
    // a probe that meets the backend at a bad moment (one of its workers between two of our
    // requests) holds the limit for a second before the next one: load for up to 10 s
    const deadline = Date.now() + 10_000
    do await bursts(t, client, 5, 20)
    while (client.stats().capacity < children && Date.now() < deadline)
    t.ok(await until(() => client.stats().inFlight === 0))
    t.equal(client.stats().capacity, children, 'pm.max_children found')
    t.ok(client.stats().limit <= children + 1, `limit ${client.stats().limit}: the capacity, or one above it while probing`)
    // held at the capacity, bursts run on the kept connections
    const before = client.stats().connections
    await bursts(t, client, 10, 20)
    const opened = client.stats().connections - before
    t.ok(opened <= 40, `200 more requests opened ${opened} connections (a probe each second at most, and a linger timeout now and then)`)
  })
}

t.test('without a cap, the same bursts open a connection for most requests (the reason for the limit)', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2 })
  const client = makeClient(t, fpm.address, { keepAlive: true, maxConcurrency: Infinity, keepAliveLinger: 1000 })
  await bursts(t, client, 10, 20)
  t.equal(client.stats().capacity, Infinity, 'no capacity known, none looked for')
  t.ok(client.stats().connections > 50, `200 requests opened ${client.stats().connections} connections`)
})
