// The Node process ending (exit, SIGTERM, SIGINT) takes the spawned backends and sockets with it.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/tmp'
import { alive, groupMembers, waitFor } from '../fixtures/pool/support'

const CHILD = join(__dirname, '..', 'fixtures', 'pool', 'signal-child.ts')

interface Outcome { code: number | null, signal: NodeJS.Signals | null, stdout: string }

async function runChild (t: Test, mode: string, signal?: NodeJS.Signals): Promise<{ outcome: Outcome, pids: number[], members: number[], dir: string }> {
  const dir = makeTempDir(t)
  // tap's loaders come along, and with them signal-exit's listeners: the pool must cope
  const child = spawn(process.execPath, [...process.execArgv, CHILD], {
    env: { ...process.env, POOL_SIGNAL_MODE: mode, POOL_SIGNAL_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  })
  let stdout = ''
  let pids: number[] = []
  let members: number[] = []
  child.stdout.setEncoding('utf8')
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      const line = stdout.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined && pids.length === 0) {
        pids = (JSON.parse(line) as { pids: number[] }).pids
        members = pids.flatMap((pid) => groupMembers(pid))
        resolve()
      }
    })
  })
  const exited = new Promise<Outcome>((resolve) => {
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stdout }))
  })
  await Promise.race([ready, exited])
  // php-cgi's master forks its workers after it starts listening: wait (bounded) for all three
  // before the child is signalled or told to exit
  if (pids.length > 0) {
    await waitFor(() => pids.flatMap((pid) => groupMembers(pid)).length >= 3, 5000)
    members = pids.flatMap((pid) => groupMembers(pid))
  }
  if (mode === 'exit') child.stdin.end('go\n')
  if (signal !== undefined && child.pid !== undefined) process.kill(child.pid, signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const outcome = await exited
  clearTimeout(timer)
  outcome.stdout = stdout
  return { outcome, pids, members, dir }
}

t.test('SIGTERM: backends and socket cleaned up, then the process dies of SIGTERM', async (t) => {
  const { outcome, pids, members, dir } = await runChild(t, 'wait', 'SIGTERM')
  t.equal(pids.length, 1)
  t.equal(members.length, 3, 'php-cgi master and two workers were running')
  t.equal(outcome.signal, 'SIGTERM', 're-raised with nobody else listening')
  t.ok(await waitFor(() => members.every((pid) => !alive(pid)), 3000), 'no process left')
  t.notOk(existsSync(join(dir, 'php.sock-0')))
})

t.test('SIGINT with another listener: cleaned up, not re-raised, the listener decides', async (t) => {
  const { outcome, members, dir } = await runChild(t, 'own-listener', 'SIGINT')
  t.equal(outcome.code, 7)
  t.equal(outcome.signal, null)
  t.match(outcome.stdout, /own listener/)
  t.ok(members.length > 0, 'processes were running')
  t.ok(await waitFor(() => members.every((pid) => !alive(pid)), 3000), 'no process left')
  t.notOk(existsSync(join(dir, 'php.sock-0')))
})

t.test('process.exit: children signalled synchronously, socket removed', async (t) => {
  const { outcome, members, dir } = await runChild(t, 'exit')
  t.equal(outcome.code, 0)
  t.notOk(existsSync(join(dir, 'php.sock-0')))
  t.ok(members.length > 0)
  t.ok(await waitFor(() => members.every((pid) => !alive(pid)), 3000), 'no process left')
})
