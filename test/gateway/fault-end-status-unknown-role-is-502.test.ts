// FCGI_END_REQUEST with protocolStatus FCGI_UNKNOWN_ROLE: 502.
import t from 'tap'
import { faults } from '../helpers/fault-server'
import { assertFaultThenRecovery } from '../helpers/fault-gateway'

t.test('FCGI_UNKNOWN_ROLE -> 502', async (t) => {
  await assertFaultThenRecovery(t, faults.endStatus('unknown-role'), 502)
})
