// A backend that floods its own stderr (not FastCGI STDERR: fd 2 of the process we spawned)
// must not take the gateway with it. Before, every line became a log record: `yes >&2` in the
// backend's process group gave tens of millions of records a minute and a gateway 150 times
// slower for every request, whichever backend they were for. Now a process's stderr is read at
// a bounded rate (past it the pipe waits, so the flooding writer waits, not the gateway), at
// most STDERR_LINES_PER_SECOND lines a second are logged and the rest summed up in one line.
import t from 'tap'
import { join } from 'node:path'
import { BackendPool } from '../../plugin/pool'
import type { PoolLogger } from '../../plugin/pool'
import { STDERR_LINES_PER_SECOND } from '../../plugin/pool/process-supervisor'
import { makeTempDir } from '../helpers/tmp'
import { phpGet, spec, unix, waitFor } from '../fixtures/pool/support'

const FLOOD = join(__dirname, '..', 'fixtures', 'pool', 'stderr-flood.sh')

/** Counts the flood's lines instead of keeping them (before the fix there are millions). */
function countingLogger (): PoolLogger & { floodLines: () => number, others: Array<{ level: string, msg: string, obj: object }> } {
  let floodLines = 0
  const others: Array<{ level: string, msg: string, obj: object }> = []
  const log = (level: string) => (obj: object, msg: string): void => {
    if (msg.startsWith('stderr-flood:')) floodLines++
    else if (others.length < 1000) others.push({ level, msg, obj })
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), floodLines: () => floodLines, others }
}

t.test('a backend flooding its stderr is logged at a bounded rate, costs the gateway little CPU, and keeps serving', async (t) => {
  const dir = makeTempDir(t)
  const logger = countingLogger()
  const p = new BackendPool({ balance: 'least-connection', debug: false, logger, closeGrace: 1000 })
  t.teardown(() => p.close())
  p.add(spec({ address: unix(join(dir, 'flood.sock')), name: 'flood', binPath: [FLOOD] }))
  const startedAt = Date.now()
  await p.start()

  const summaries = (): Array<{ msg: string, obj: object }> => logger.others.filter((e) => /stderr lines/.test(e.msg))
  t.ok(await waitFor(() => summaries().length >= 2, 8000), 'the dropped lines are summed up, once a second')
  const summary = summaries()[0]
  t.match(summary?.obj, { backend: 'flood' }, 'the summary names the backend')

  const cpuBefore = process.cpuUsage()
  const wallBefore = Date.now()
  const served = await phpGet(unix(join(dir, 'flood.sock-0')))
  t.equal(served.status, 200, 'the flooding backend still serves')
  t.ok(await waitFor(() => Date.now() - wallBefore >= 1000, 3000))
  const cpu = process.cpuUsage(cpuBefore)
  const wall = Date.now() - wallBefore
  const share = (cpu.user + cpu.system) / 1000 / wall
  t.ok(share < 0.5, `reading the flood takes a fraction of a core, not all of it: ${Math.round(share * 100)}% of ${wall} ms`)

  const seconds = (Date.now() - startedAt) / 1000
  const logged = logger.floodLines()
  t.ok(logged <= (Math.ceil(seconds) + 1) * STDERR_LINES_PER_SECOND,
    `at most ${STDERR_LINES_PER_SECOND} lines a second logged: ${logged} in ${seconds.toFixed(1)} s`)
  t.ok(logged > 0, 'the first lines are logged')
  await p.close()
})
