// AcceptQueueWatch alone: which waiting connection a returning one has overtaken, and when the
// workers we hold count as our share of a backend other clients may use too.
import t from 'tap'
import { AcceptQueueWatch, overtook } from '../../plugin/client/accept-queue-watch'
import type { WatchedConnection } from '../../plugin/client/accept-queue-watch'

/** A connection given its request `msAgo` ms ago; answered or still waiting for a worker. */
function connection (msAgo: number, answered: boolean): WatchedConnection {
  return { answered, attached: true, attachedAt: performance.now() - msAgo }
}

// Times are far apart (seconds against a millisecond) so that a loaded machine pausing this
// test between two clock readings cannot change an answer.
t.test('overtook: sent later, finished first, with a margin of twice its time plus 1 ms', async (t) => {
  t.ok(overtook(connection(1, true), performance.now() - 10000), 'sent 1 ms ago, the other 10 s ago')
  t.notOk(overtook(connection(15, true), performance.now() - 20), 'took 15 ms: the other is only slower')
  t.notOk(overtook(connection(20, true), performance.now() - 10), 'sent before the other: overtook nothing')
})

t.test('the oldest waiting fresh connection is the one overtaken, and none while none waits', async (t) => {
  const watch = new AcceptQueueWatch()
  const older = connection(10000, false)
  const newer = connection(9000, false)
  const returning = connection(1, true)
  t.equal(watch.overtakenBy([older, newer, returning], returning), undefined, 'no fresh connection was sent')
  watch.freshSent()
  watch.freshSent()
  t.equal(watch.overtakenBy([newer, older, returning], returning), older)
  t.equal(watch.overtakenBy([older, newer], connection(6000, true)), undefined, 'a slower request overtakes nothing')
})

t.test('the workers held count as our share once per waiting connection', async (t) => {
  const watch = new AcceptQueueWatch()
  watch.freshSent()
  const waiting = connection(30, false)
  t.equal(watch.share(waiting, () => 2), 2, 'first seen overtaken: the two we hold')
  t.equal(watch.share(waiting, () => 1), undefined, 'later: we have given up a worker for it since')
  t.equal(watch.share(connection(30, false), () => 1), 1, 'another waiting connection counts again')
})

t.test('not while a worker we gave back may be what the waiting connection waits for', async (t) => {
  const watch = new AcceptQueueWatch()
  watch.closed(connection(200, true))
  watch.closed(connection(200, false))
  watch.freshSent()
  watch.freshSent()
  t.equal(watch.share(connection(30, false), () => 1), undefined, 'an answered connection of ours was closed: its worker may come to this one')
  watch.freshDone(true)
  t.equal(watch.share(connection(30, false), () => 1), 1, 'a fresh connection took that worker: a wait now is for someone else\'s')
})

t.test('workers given back count for nothing once no fresh connection waits', async (t) => {
  const watch = new AcceptQueueWatch()
  watch.freshSent()
  watch.closed(connection(200, true))
  watch.closed(connection(200, true))
  watch.freshDone(false)
  watch.freshSent()
  t.equal(watch.share(connection(30, false), () => 1), 1, 'the two closed before the last wait ended are forgotten')
})
