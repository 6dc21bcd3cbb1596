// ConcurrencyLimit alone: slots under a cap the user set (a promise: refusals are 503s) and
// under a discovered limit (a guess: it delays, never refuses).
import t from 'tap'
import assert from 'node:assert'
import { ConcurrencyLimit, DISCOVERED_LIMIT_WAIT, Slot } from '../../plugin/client/concurrency-limit'
import { Cancellation } from '../../plugin/client/cancellation'

// the limit's timers are unref'd (a client's sockets keep the process alive); here nothing else does
const alive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(alive))

t.test('a cap: slots up to it, then waiters in arrival order', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: 2, queueLimit: 10, queueTimeout: 0 })
  t.equal(limit.take(undefined), undefined, 'first slot at once')
  t.equal(limit.take(undefined), undefined, 'second slot at once')
  const order: number[] = []
  const waiting = [1, 2, 3].map(async (n) => { await limit.take(undefined); order.push(n) })
  t.equal(limit.queued, 3)
  const slots = [new Slot(limit), new Slot(limit)]
  slots[0]?.release()
  slots[0]?.release()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(order, [1], 'a slot released twice frees one place')
  slots[1]?.release()
  new Slot(limit).release()
  await Promise.all(waiting)
  t.same(order, [1, 2, 3], 'in arrival order')
  t.equal(limit.inFlight, 2)
})

t.test('a cap: a full queue and a wait past queueTimeout are refused', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: 1, queueLimit: 1, queueTimeout: 50 })
  limit.take(undefined)
  const waiter = limit.take(undefined)
  assert(waiter !== undefined, 'the second request waits')
  t.throws(() => limit.take(undefined), { code: 'FST_FASTCGI_QUEUE_FULL' })
  await t.rejects(waiter, { code: 'FST_FASTCGI_QUEUE_TIMEOUT' })
  t.equal(limit.queued, 0)
  t.equal(limit.inFlight, 1, 'the refused ones never held a slot')
})

t.test('a cancelled waiter leaves the queue', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: 1, queueLimit: 10, queueTimeout: 0 })
  limit.take(undefined)
  const cancellation = new Cancellation()
  const waiter = limit.take(cancellation)
  assert(waiter !== undefined, 'the second request waits')
  cancellation.cancel()
  await t.rejects(waiter, { code: 'FST_FASTCGI_CLIENT_ABORTED' })
  t.equal(limit.queued, 0)
})

t.test('setCap (FCGI_MAX_CONNS) wakes waiters that now fit', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: 1, queueLimit: 10, queueTimeout: 0 })
  limit.take(undefined)
  const waiter = limit.take(undefined)
  limit.setCap(2)
  await waiter
  t.equal(limit.inFlight, 2)
})

t.test('a discovered limit: a full queue sends on, a long wait goes on, nothing is refused', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: Infinity, queueLimit: 1, queueTimeout: 50 })
  limit.discover()
  t.ok(limit.discovering)
  t.equal(limit.current, 2, 'twice the one request every backend takes')
  t.equal(limit.capacity, 1)
  limit.take(undefined)
  limit.take(undefined)
  const started = Date.now()
  const waiter = limit.take(undefined)
  t.equal(limit.take(undefined), undefined, 'past the queue limit: a slot over the limit, at once')
  await waiter
  t.ok(Date.now() - started >= DISCOVERED_LIMIT_WAIT - 20, `the waiter went on after DISCOVERED_LIMIT_WAIT (${DISCOVERED_LIMIT_WAIT} ms), not after queueTimeout`)
  t.equal(limit.inFlight, 4)
})

t.test('a discovered limit follows what the backend serves, and holds when a request is overtaken', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: Infinity, queueLimit: 10, queueTimeout: 0 })
  limit.discover()
  limit.take(undefined)
  limit.take(undefined)
  limit.freshAnswered(1)
  t.equal(limit.capacity, 2)
  t.equal(limit.current, 4)
  limit.take(undefined)
  limit.take(undefined)
  const waiter = limit.take(undefined)
  assert(waiter !== undefined, 'the fifth waits')
  limit.overtaken(2)
  t.equal(limit.current, 2, 'held at the two workers held')
  for (let i = 0; i < 2; i++) new Slot(limit).release()
  t.equal(limit.inFlight, 2)
  t.equal(limit.queued, 1, 'the waiter waits: two in flight fill the held limit')
  new Slot(limit).release()
  await waiter
  t.equal(limit.inFlight, 2, 'woken when one fits under the held limit')
  limit.close()
})

t.test('close() refuses every waiter', async (t) => {
  const limit = new ConcurrencyLimit('unix:/x', { cap: 1, queueLimit: 10, queueTimeout: 0 })
  limit.take(undefined)
  const waiter = limit.take(undefined)
  assert(waiter !== undefined, 'the second request waits')
  limit.close()
  await t.rejects(waiter, { code: 'FST_FASTCGI_POOL_CLOSED' })
})
