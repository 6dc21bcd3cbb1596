// The pool's bookkeeping: a Host is one configured backend address (shared by every mapping that
// names it), a PoolProc one process of it, or the single stand-in for a remote backend.
import type { ChildProcess } from 'node:child_process'
import { formatAddress, type BackendAddress } from '../client/address'
import { unlinkSocketSync } from './listen-socket'
import { Backoff, signalGroup } from './process-supervisor'
import type { BackendInfo, BackendSpec, Proc, ProcCounters, ProcState } from './types'

/** Process n of a spawned backend listens on `<socket>-<n>` or on `port + n` (lighttpd §1.2). */
export function procAddress (base: BackendAddress, id: number): BackendAddress {
  if (base.kind === 'unix') return { kind: 'unix', path: `${base.path}-${id}` }
  return { kind: 'tcp', host: base.host === '' ? '127.0.0.1' : base.host, port: base.port + id }
}

export class Host<S extends BackendSpec = BackendSpec, C = unknown> {
  readonly mappingKeys: string[] = []
  /** every entry configured at this address, in configuration order (roles, labels, keys) */
  readonly entries: S[] = []
  /** indexed by process number; slots are created when first used */
  readonly procs: Array<PoolProc<S, C>> = []

  constructor (
    /** formatAddress() of the configured address: what makes two specs one host */
    readonly key: string,
    /** the spec with binPath when there is one, else the first one added */
    public spec: S,
    public killSignal: NodeJS.Signals | number,
    private readonly connect: ((address: BackendAddress, spec: S) => C) | undefined
  ) {}

  get name (): string {
    return this.spec.name
  }

  get spawns (): boolean {
    return this.spec.binPath !== undefined
  }

  get load (): number {
    let load = 0
    for (const proc of this.procs) load += proc.load
    return load
  }

  /** the slot for process `id`, created on first use */
  slot (id: number, backoff: () => Backoff): PoolProc<S, C> {
    let proc = this.procs[id]
    if (proc === undefined) {
      const address = this.spawns ? procAddress(this.spec.address, id) : this.spec.address
      proc = new PoolProc(this, id, address, backoff(), this.connect?.(address, this.spec))
      this.procs[id] = proc
    }
    return proc
  }

  entryFor (mappingKey: string, accept?: (spec: S) => boolean): S | undefined {
    return this.entries.find((spec) => spec.mappingKey === mappingKey && (accept === undefined || accept(spec)))
  }
}

/**
 * One process, as the rest of the plugin sees it through the read-only Proc interface. The same
 * object survives respawns (new pid, same counters), so callers may keep it in sets and maps.
 */
export class PoolProc<S extends BackendSpec = BackendSpec, C = unknown> implements Proc<S, C> {
  state: ProcState = 'stopped'
  load = 0
  pid: number | undefined
  isLocal: boolean
  readonly counters: ProcCounters = { connected: 0, died: 0, overloaded: 0, disabled: 0 }

  // supervision state, meaningful for spawned processes only
  child: ChildProcess | undefined
  /** resolves when the current child has exited (or never started) */
  exited: Promise<void> = Promise.resolve()
  /** we created the unix socket file and must remove it */
  ownsSocket = false
  /** the exit of the current child is one we asked for (close, idle timeout) */
  stopping = false
  /** an exit seen while start() was still deciding whether start-up worked */
  startFailure: string | undefined
  /** exits since the process last ran for stableAfter: drives the log-once policy */
  quickExits = 0
  /** a respawn attempt failed and that was logged; cleared by the next successful spawn */
  spawnFailing = false
  startedAt = 0
  lastUsed = 0
  disabledUntil = 0
  respawnAt = 0
  /** the re-enable timer while disabled, the respawn timer while died */
  timer: NodeJS.Timeout | undefined
  stableTimer: NodeJS.Timeout | undefined

  constructor (
    readonly host: Host<S, C>,
    readonly id: number,
    readonly address: BackendAddress,
    readonly backoff: Backoff,
    readonly client: C | undefined
  ) {
    this.isLocal = host.spawns
  }

  entryFor (mappingKey: string, accept?: (spec: S) => boolean): S | undefined {
    return this.host.entryFor(mappingKey, accept)
  }

  get name (): string {
    return this.host.name
  }

  /**
   * how start-up errors name the process: `server['.php'][0] (backend 'php' at unix:/run/php.sock-0)`
   * when the spec says where it is configured, else `backend 'php' (.php) at unix:/run/php.sock-0`
   */
  describe (): string {
    const name = this.name === '' ? 'backend' : `backend '${this.name}'`
    const optionPath = this.host.spec.optionPath
    if (optionPath !== undefined) return `${optionPath} (${name} at ${formatAddress(this.address)})`
    return `${name} (${this.host.mappingKeys.join(', ')}) at ${formatAddress(this.address)}`
  }

  /** the fields every log line about the process carries */
  logFields (): { backend: string, address: string, pid?: number } {
    const fields: { backend: string, address: string, pid?: number } = { backend: this.name, address: formatAddress(this.address) }
    if (this.pid !== undefined) fields.pid = this.pid
    return fields
  }

  /** A child that is of no use (spawn failed half-way): kill it and remove its socket file. */
  abandonChild (): void {
    const child = this.child
    if (child !== undefined) {
      this.stopping = true
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
    }
    if (this.ownsSocket && this.address.kind === 'unix') {
      unlinkSocketSync(this.address.path)
      this.ownsSocket = false
    }
  }

  clearTimers (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.stableTimer !== undefined) clearTimeout(this.stableTimer)
    this.timer = undefined
    this.stableTimer = undefined
  }

  info (): BackendInfo {
    const outOfRotation = this.state === 'disabled' || this.state === 'overloaded'
    return {
      mappingKeys: [...this.host.mappingKeys],
      name: this.name,
      id: this.id,
      address: formatAddress(this.address),
      isLocal: this.isLocal,
      state: this.state,
      load: this.load,
      pid: this.pid ?? null,
      counters: { ...this.counters },
      disabledUntil: outOfRotation ? this.disabledUntil : null
    }
  }

  /** what `debug: true` prints per process, like the seed's `proc:` lines */
  debugLine (): { address: string, isLocal: boolean, state: ProcState, load: number, pid: number | null } {
    return { address: formatAddress(this.address), isLocal: this.isLocal, state: this.state, load: this.load, pid: this.pid ?? null }
  }
}
