// Network namespaces for the remote-backend tests: `ip netns add ffcgi-<rand>` and a veth pair
// with a /30 from 10.213.0.0/16, host side .1, namespace side .2. Only what this creates is
// touched, and it is removed at teardown (and at process exit, should teardown not run).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import type { TeardownHost } from '../helpers/tmp'

function ip (args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function quietly (fn: () => unknown): void {
  try { fn() } catch {}
}

let cachedReason: string | false | undefined

/** Why network namespaces cannot be used here, or false when they can. */
export function netnsUnavailable (): string | false {
  if (cachedReason !== undefined) return cachedReason
  if (process.platform !== 'linux') return (cachedReason = 'ip netns needs Linux')
  const probe = `ffcgi-probe-${randomBytes(3).toString('hex')}`
  try {
    ip(['netns', 'add', probe])
    cachedReason = false
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message
    cachedReason = `ip netns is not permitted here: ${stderr.trim().split('\n')[0] ?? ''}`
  }
  quietly(() => ip(['netns', 'del', probe]))
  return cachedReason
}

export interface Netns {
  readonly name: string
  /** veth end in the host namespace, and its address */
  readonly hostIf: string
  readonly hostAddr: string
  /** veth end inside the namespace, and its address */
  readonly nsIf: string
  readonly nsAddr: string
  /** argv prefix that runs a command inside the namespace */
  exec (argv: readonly string[]): string[]
  /** takes the link down or up: both ends, so that nothing passes either way */
  setLink (up: boolean): void
  /** writes /etc/netns/<name>/hosts: processes started with exec() resolve names with it */
  setHosts (lines: readonly string[]): void
}

/** Creates a namespace with a veth pair to the host; everything goes at t.teardown. */
export function createNetns (t: TeardownHost): Netns {
  const tag = randomBytes(3).toString('hex')
  const name = `ffcgi-${tag}`
  const hostIf = `vfh${tag}`
  const nsIf = `vfn${tag}`
  const used = ip(['-4', '-o', 'addr', 'show'])
  let subnet = ''
  for (let i = 0; i < 50; i++) {
    const third = randomBytes(1)[0] as number
    const fourth = ((randomBytes(1)[0] as number) % 64) * 4
    const candidate = `10.213.${third}.${fourth}`
    if (!used.includes(`10.213.${third}.`)) { subnet = candidate; break }
  }
  if (subnet === '') throw new Error('no free 10.213.x.y/30 found')
  const [a, b, c, d] = subnet.split('.').map(Number) as [number, number, number, number]
  const hostAddr = `${a}.${b}.${c}.${d + 1}`
  const nsAddr = `${a}.${b}.${c}.${d + 2}`
  const etcDir = '/etc/netns'
  const etcCreated = !existsSync(etcDir)
  let removed = false
  const remove = (): void => {
    if (removed) return
    removed = true
    quietly(() => ip(['netns', 'del', name]))
    // a veth end can outlive its namespace on some kernels (gVisor): delete it by name
    quietly(() => ip(['link', 'del', hostIf]))
    quietly(() => rmSync(`${etcDir}/${name}`, { recursive: true, force: true }))
    if (etcCreated) quietly(() => { if (readdirSync(etcDir).length === 0) rmdirSync(etcDir) })
    process.removeListener('exit', remove)
  }
  process.once('exit', remove)
  t.teardown(remove)
  try {
    ip(['netns', 'add', name])
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf])
    ip(['link', 'set', nsIf, 'netns', name])
    ip(['addr', 'add', `${hostAddr}/30`, 'dev', hostIf])
    ip(['link', 'set', hostIf, 'up'])
    ip(['netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf])
    ip(['netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up'])
    ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'])
  } catch (err) {
    remove()
    throw err
  }
  return {
    name,
    hostIf,
    hostAddr,
    nsIf,
    nsAddr,
    exec: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    setLink: (up) => {
      const state = up ? 'up' : 'down'
      ip(['link', 'set', hostIf, state])
      ip(['netns', 'exec', name, 'ip', 'link', 'set', nsIf, state])
      if (up) {
        // the kernel drops the addresses' routes with the link; make sure they are back
        quietly(() => ip(['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]))
        quietly(() => ip(['netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]))
      }
    },
    setHosts: (lines) => {
      mkdirSync(`${etcDir}/${name}`, { recursive: true })
      writeFileSync(`${etcDir}/${name}/hosts`, lines.join('\n') + '\n')
    }
  }
}
