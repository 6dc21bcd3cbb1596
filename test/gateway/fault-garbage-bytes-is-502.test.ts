// A backend that answers bytes that are not FastCGI (an HTTP response): 502.
import t from 'tap'
import { faults } from '../helpers/fault-server'
import { assertFaultThenRecovery } from '../helpers/fault-gateway'

t.test('garbage bytes -> 502', async (t) => {
  await assertFaultThenRecovery(t, faults.garbage(), 502)
})
