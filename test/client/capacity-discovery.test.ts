// CapacityDiscovery alone: the limit it gives for each thing a backend can show.
import t from 'tap'
import { CapacityDiscovery, FIRST_HOLD, MAX_HOLD } from '../../plugin/client/capacity-discovery'

t.test('slow start: the limit is twice what the backend was seen to serve at once', async (t) => {
  const d = new CapacityDiscovery()
  t.equal(d.known, 1)
  t.equal(d.limit, 2)
  d.answered(1)
  t.equal(d.known, 2, 'two served at once')
  t.equal(d.limit, 4)
  d.answered(3)
  t.equal(d.limit, 8)
})

t.test('what the backend serves at once is a lower bound: a quiet moment lowers nothing', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(2)
  d.answered(0)
  t.equal(d.known, 3)
  t.equal(d.limit, 6)
})

t.test('an overtaken connection holds the limit at the workers held, longer each time', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  t.equal(d.overtaken(2), FIRST_HOLD, 'the backend had no worker for the third')
  t.equal(d.limit, 2, 'held at the two held: nothing waits in the backend\'s queue')
  t.equal(d.overtaken(undefined), 0, 'while held, nothing more to learn')
  d.endHold()
  t.equal(d.limit, 3, 'after the hold, one above (a probe)')
  t.equal(d.overtaken(2), FIRST_HOLD * 2, 'overtaken again: twice as long')
  for (let i = 0; i < 10; i++) {
    d.endHold()
    d.overtaken(2)
  }
  d.endHold()
  t.equal(d.overtaken(2), MAX_HOLD, 'the hold stops growing')
})

t.test('more capacity found resets the hold', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  d.overtaken(2)
  d.endHold()
  d.overtaken(2)
  d.endHold()
  d.answered(2)
  t.equal(d.known, 3)
  t.equal(d.limit, 4, 'probing goes on one above')
  t.equal(d.overtaken(3), FIRST_HOLD, 'the next hold is the first hold again')
})

t.test('a backend shared with another client: the limit holds at what is left to us, the capacity stays known', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  t.equal(d.known, 2, 'alone, two served at once')
  t.equal(d.overtaken(1), FIRST_HOLD, 'then another client took a worker: only one held when the backend had none for us')
  t.equal(d.known, 2, 'the capacity is still two')
  t.equal(d.share, 1)
  t.equal(d.limit, 1, 'held at one: no connection of ours waits for the worker the other client holds')
  d.endHold()
  t.equal(d.limit, 2, 'the probe: one above what we hold')
  d.answered(1)
  t.equal(d.share, 2, 'the other client has gone: two held again')
  t.equal(d.limit, 3)
  t.equal(d.overtaken(2), FIRST_HOLD * 2, 'a worker won back is not new capacity: the hold still doubles')
  t.equal(d.limit, 2)
})

t.test('what we hold never counts for less than one, nor for more than the capacity known', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  d.overtaken(0)
  t.equal(d.limit, 1, 'no worker held at all: still one request at a time')
  d.endHold()
  d.overtaken(5)
  t.equal(d.share, 2, 'never above the capacity seen')
})

t.test('a connection counted once: later overtakings while it waits change nothing', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(2)
  d.overtaken(3)
  t.equal(d.overtaken(undefined), 0)
  t.equal(d.share, 3, 'the workers we gave up for the waiting connection are not taken as lost')
  t.equal(d.limit, 3)
})
