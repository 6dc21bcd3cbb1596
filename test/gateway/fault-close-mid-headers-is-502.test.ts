// A backend that closes the connection in the middle of the CGI header block: 502 (the header block was never complete).
import t from 'tap'
import { faults } from '../helpers/fault-server'
import { assertFaultThenRecovery } from '../helpers/fault-gateway'

t.test('close mid-headers -> 502', async (t) => {
  await assertFaultThenRecovery(t, faults.closeMidHeaders(), 502)
})
