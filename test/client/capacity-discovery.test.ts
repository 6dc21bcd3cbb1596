// CapacityDiscovery alone: the limit it gives for each thing a backend can show.
import t from 'tap'
import { CapacityDiscovery, FIRST_HOLD, MAX_HOLD } from '../../plugin/client/capacity-discovery'

t.test('slow start: the limit is twice what the backend was seen to serve at once', async (t) => {
  const d = new CapacityDiscovery()
  t.equal(d.known, 1)
  t.equal(d.limit, 2)
  t.equal(d.answered(1, true), 0, 'two served at once: no hold')
  t.equal(d.known, 2)
  t.equal(d.limit, 4)
  t.equal(d.answered(3, true), 0)
  t.equal(d.limit, 8)
})

t.test('a probe answered without more concurrency holds the limit at the known capacity', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1, true)
  t.equal(d.answered(1, true), FIRST_HOLD, 'the backend served no more than two')
  t.equal(d.limit, 2, 'held at the known capacity: nothing waits in the backend\'s queue')
  t.equal(d.answered(1, true), 0, 'while held, nothing more to learn from a failure')
  d.endHold()
  t.equal(d.limit, 3, 'after the hold, one above (a probe)')
  t.equal(d.answered(1, true), FIRST_HOLD * 2, 'a second failed probe holds twice as long')
  for (let i = 0; i < 10; i++) {
    d.endHold()
    d.answered(1, true)
  }
  d.endHold()
  t.equal(d.answered(1, true), MAX_HOLD, 'the hold stops growing')
})

t.test('a probe that finds more raises the capacity and resets the hold', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1, true)
  d.answered(1, true)
  d.endHold()
  t.equal(d.answered(2, true), 0, 'three served at once')
  t.equal(d.known, 3)
  t.equal(d.limit, 4, 'probing goes on one above')
  t.equal(d.answered(2, true), FIRST_HOLD, 'the next failure holds for the first hold again')
})

t.test('a fresh connection inside the known capacity is no probe: its answer holds nothing', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(2, true)
  t.equal(d.known, 3)
  t.notOk(d.isProbe(3), 'the third request in flight is inside the capacity')
  t.ok(d.isProbe(4), 'the fourth looks for more')
  t.equal(d.answered(0, false), 0, 'a quiet moment says nothing about capacity')
  t.equal(d.limit, 6, 'still in slow start')
  t.equal(d.known, 3, 'the capacity never falls')
})
