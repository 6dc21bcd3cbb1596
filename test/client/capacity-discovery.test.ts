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

t.test('an overtaken connection holds the limit at the known capacity, longer each time', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  t.equal(d.overtaken(), FIRST_HOLD, 'the backend had no worker for the third')
  t.equal(d.limit, 2, 'held at the known capacity: nothing waits in the backend\'s queue')
  t.equal(d.overtaken(), 0, 'while held, nothing more to learn')
  d.endHold()
  t.equal(d.limit, 3, 'after the hold, one above (a probe)')
  t.equal(d.overtaken(), FIRST_HOLD * 2, 'overtaken again: twice as long')
  for (let i = 0; i < 10; i++) {
    d.endHold()
    d.overtaken()
  }
  d.endHold()
  t.equal(d.overtaken(), MAX_HOLD, 'the hold stops growing')
})

t.test('more capacity found resets the hold', async (t) => {
  const d = new CapacityDiscovery()
  d.answered(1)
  d.overtaken()
  d.endHold()
  d.overtaken()
  d.endHold()
  d.answered(2)
  t.equal(d.known, 3)
  t.equal(d.limit, 4, 'probing goes on one above')
  t.equal(d.overtaken(), FIRST_HOLD, 'the next hold is the first hold again')
})
