// A backend that accepts the connection and closes it before answering: 502, and the next request works.
import t from 'tap'
import { faults } from '../helpers/fault-server'
import { assertFaultThenRecovery } from '../helpers/fault-gateway'

t.test('accept-and-close -> 502', async (t) => {
  await assertFaultThenRecovery(t, faults.acceptAndClose(), 502)
})
