// FCGI_END_REQUEST with no STDOUT at all (no header block): 502.
import t from 'tap'
import { faults } from '../helpers/fault-server'
import { assertFaultThenRecovery } from '../helpers/fault-gateway'

t.test('END_REQUEST without STDOUT -> 502', async (t) => {
  await assertFaultThenRecovery(t, faults.endWithoutStdout(), 502)
})
