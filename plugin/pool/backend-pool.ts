// The backend pool: which process a request goes to, and keeping spawned processes alive
// (lighttpd reference §1.5, §7, §8). It never speaks FastCGI to serve requests: the Fastify layer
// does, and reports back through reportConnect() and release().
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { formatAddress, type BackendAddress } from '../client/address'
import { BackendStartError, InvalidOptionError } from '../errors'
import { childCommand, childEnvironment } from './child-env'
import { Host, PoolProc } from './host'
import { probeAddress, unlinkSocketSync, withListeningSocket } from './listen-socket'
import { createPicker, type HostPicker } from './pickers'
import { guard, unguard, type Guarded } from './process-guard'
import { Backoff, forwardStderr, groupExists, normalizeSignal, signalGroup, spawnBackendProcess, whenSpawned } from './process-supervisor'
import { prometheusText, statsRecord, statusHtml, type PoolSnapshot } from './stats'
import type {
  BackendInfo, BackendPoolOptions, BackendSpec, ConnectOutcome, PickHint, PoolEventMap, PoolLogger,
  PoolTiming, Proc
} from './types'

const DEFAULT_TIMING: PoolTiming = {
  backoffInitial: 100,
  backoffMax: 10_000,
  stableAfter: 10_000,
  maintenanceInterval: 1000,
  startCheck: 100,
  probeTimeout: 1000
}

/** After SIGKILL a process is gone as soon as the kernel gets to it; this only bounds the wait. */
const SIGKILL_WAIT = 2000

type Phase = 'new' | 'starting' | 'running' | 'closing' | 'closed'

interface MappingEntry {
  readonly hosts: Host[]
  readonly picker: HostPicker
}

/** A start-up or respawn problem, worded for the person who wrote the configuration. */
class SpawnProblem extends Error {}

function errorCode (err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

function describeExit (code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`
}

function delay (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves true when `promise` settles within `ms`, false otherwise; never keeps the loop alive. */
async function within (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function checkExecutable (file: string): Promise<void> {
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(file)
  } catch (err) {
    const code = errorCode(err)
    throw new SpawnProblem(code === 'ENOENT' ? `${file} does not exist` : `cannot inspect ${file} (${code ?? String(err)})`)
  }
  if (!stat.isFile()) throw new SpawnProblem(`${file} is not a regular file`)
  try {
    await fs.promises.access(file, fs.constants.X_OK)
  } catch {
    throw new SpawnProblem(`${file} is not executable`)
  }
}

function describeListenError (err: unknown, address: BackendAddress): string {
  const code = errorCode(err)
  // libuv reports a missing directory as EACCES when binding a unix socket
  if (address.kind === 'unix' && (code === 'EACCES' || code === 'ENOENT') && !fs.existsSync(path.dirname(address.path))) {
    return `cannot listen on ${formatAddress(address)}: the directory does not exist`
  }
  return describeListenCode(code, err, formatAddress(address))
}

function describeListenCode (code: string | undefined, err: unknown, address: string): string {
  switch (code) {
    case 'EADDRINUSE': return `${address} is already in use`
    case 'EACCES': return `permission denied to listen on ${address}`
    case 'EADDRNOTAVAIL': return `cannot listen on ${address}: not a local address`
    case 'ENOENT': return `cannot listen on ${address}: the directory does not exist`
    default: return `cannot listen on ${address}: ${err instanceof Error ? err.message : String(err)}`
  }
}

export class BackendPool extends EventEmitter<PoolEventMap> implements Guarded {
  private readonly hosts = new Map<string, Host>()
  private readonly mappings = new Map<string, MappingEntry>()
  private readonly owned = new Set<PoolProc>()
  private readonly pendingSpawns = new Set<Promise<void>>()
  private readonly drainWaiters = new Set<() => void>()
  /** process groups we created (a spawned child leads its own); pruned once found empty */
  private readonly groups = new Set<number>()
  private readonly logger: PoolLogger
  private readonly timing: PoolTiming
  private readonly closeGrace: number
  private phase: Phase = 'new'
  private requests = 0
  private active = 0
  private maintenance: NodeJS.Timeout | undefined
  private starting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private guarded = false

  constructor (private readonly options: BackendPoolOptions) {
    super()
    this.logger = options.logger
    this.timing = { ...DEFAULT_TIMING, ...options.timing }
    this.closeGrace = options.closeGrace ?? 5000
  }

  /**
   * Two specs naming the same address are one host (one load, one set of processes), whatever
   * their mapping keys; the one with binPath decides how it is spawned.
   */
  add (spec: BackendSpec): void {
    if (this.phase !== 'new') throw new InvalidOptionError('backends can only be added before start()')
    let killSignal: NodeJS.Signals | number
    try {
      killSignal = normalizeSignal(spec.killSignal)
    } catch (err) {
      throw new InvalidOptionError(`killSignal of backend '${spec.name}': ${err instanceof Error ? err.message : String(err)}`)
    }
    const key = formatAddress(spec.address)
    let host = this.hosts.get(key)
    if (host === undefined) {
      host = new Host(key, spec, killSignal)
      this.hosts.set(key, host)
      if (!host.spawns) this.adoptProc(host.slot(0, () => this.newBackoff())).state = 'running'
    } else if (spec.binPath !== undefined) {
      if (host.spec.binPath === undefined) {
        // the remote stand-in created for the first spec is replaced by spawned processes
        for (const proc of host.procs) this.owned.delete(proc)
        host.procs.length = 0
        host.spec = spec
        host.killSignal = killSignal
      } else if (host.spec.binPath.join('\0') !== spec.binPath.join('\0')) {
        throw new InvalidOptionError(`${key} is used by two backends with different binPath`)
      }
    }
    if (!host.mappingKeys.includes(spec.mappingKey)) host.mappingKeys.push(spec.mappingKey)
    let entry = this.mappings.get(spec.mappingKey)
    if (entry === undefined) {
      entry = { hosts: [], picker: createPicker(this.options.balance) }
      this.mappings.set(spec.mappingKey, entry)
    }
    if (!entry.hosts.includes(host)) entry.hosts.push(host)
  }

  /** Spawns minProcs processes of every binPath backend; on any failure, undoes everything. */
  start (): Promise<void> {
    this.starting ??= this.doStart()
    return this.starting
  }

  private async doStart (): Promise<void> {
    if (this.phase !== 'new') throw new BackendStartError('the pool was closed before it started')
    this.phase = 'starting'
    let current: PoolProc | undefined
    try {
      const spawned: PoolProc[] = []
      for (const host of this.hosts.values()) {
        if (!host.spawns) continue
        const count = Math.min(host.spec.minProcs, host.spec.maxProcs)
        for (let id = 0; id < count; id++) {
          current = this.adoptProc(host.slot(id, () => this.newBackoff()))
          await this.spawnProc(current)
          spawned.push(current)
        }
      }
      // lighttpd waits 1 ms for an exec that fails at once; a broken php.ini or a missing shared
      // library takes longer than that to kill the program
      if (spawned.some((proc) => proc.isLocal)) await delay(this.timing.startCheck)
      for (const proc of spawned) {
        current = proc
        if (proc.startFailure !== undefined) throw new SpawnProblem(proc.startFailure)
      }
    } catch (err) {
      this.closing = this.shutdown(false)
      await this.closing
      const cause = err instanceof Error ? err.message : String(err)
      const error = new BackendStartError(current === undefined ? cause : `${this.describe(current)}: ${cause}`)
      if (!(err instanceof SpawnProblem)) error.cause = err
      throw error
    }
    this.phase = 'running'
    this.maintenance = setInterval(() => this.maintain(), this.timing.maintenanceInterval)
    this.maintenance.unref()
  }

  /**
   * Host by the balance algorithm among the mapping's hosts that have a running process not in
   * `exclude`, then that host's least-loaded such process (ties: lowest process number, so that
   * processes beyond minProcs can fall idle).
   */
  pick (mappingKey: string, hint: PickHint, exclude?: ReadonlySet<Proc>): Proc | undefined {
    if (this.phase === 'closing' || this.phase === 'closed') return undefined
    const entry = this.mappings.get(mappingKey)
    if (entry === undefined) return undefined
    const candidates: Array<{ index: number, load: number, address: BackendAddress, proc: PoolProc }> = []
    entry.hosts.forEach((host, index) => {
      const proc = this.bestProc(host, exclude)
      if (proc !== undefined) candidates.push({ index, load: host.load, address: host.spec.address, proc })
    })
    if (candidates.length === 0) {
      this.spawnOnDemand(entry.hosts)
      return undefined
    }
    const chosen = entry.hosts.length === 1 ? candidates[0] : entry.picker.pick(candidates, hint)
    if (chosen === undefined) return undefined
    const proc = chosen.proc
    proc.load++
    proc.lastUsed = Date.now()
    this.requests++
    this.active++
    if (this.options.debug) this.debugProcs('got proc', proc)
    return proc
  }

  reportConnect (proc: Proc, outcome: ConnectOutcome): void {
    const own = this.own(proc)
    if (own === undefined || this.phase === 'closed') return
    switch (outcome) {
      case 'connected':
        own.counters.connected++
        return
      case 'refused':
      case 'timeout':
        own.counters.died++
        this.disable(own, 'disabled', outcome)
        return
      case 'overloaded':
        own.counters.overloaded++
        this.disable(own, 'overloaded', outcome)
    }
  }

  release (proc: Proc): void {
    const own = this.own(proc)
    if (own === undefined || own.load === 0) return
    own.load--
    this.active--
    own.lastUsed = Date.now()
    if (this.options.debug) this.debugProcs('release proc', own)
    if (this.active === 0) {
      for (const resolve of this.drainWaiters) resolve()
      this.drainWaiters.clear()
    }
  }

  /** Seconds until some backend of the mapping is expected back (re-enable or respawn), at least 1. */
  retryAfterSeconds (mappingKey: string): number {
    const entry = this.mappings.get(mappingKey)
    if (entry === undefined) return 1
    const now = Date.now()
    let soonest = Infinity
    for (const host of entry.hosts) {
      for (const proc of host.procs) {
        if (proc.state === 'disabled' || proc.state === 'overloaded') soonest = Math.min(soonest, proc.disabledUntil - now)
        else if (proc.state === 'died') soonest = Math.min(soonest, proc.respawnAt - now)
      }
    }
    if (soonest === Infinity) return 1
    return Math.max(1, Math.ceil(soonest / 1000))
  }

  backends (): BackendInfo[] {
    return this.snapshot().hosts.flatMap((host) => host.procs)
  }

  stats (): Record<string, number> {
    return statsRecord(this.snapshot())
  }

  prometheus (): string {
    return prometheusText(this.snapshot())
  }

  statusHtml (): string {
    return statusHtml(this.snapshot())
  }

  /**
   * Stops handing out processes, lets in-flight requests finish (up to closeGrace), sends
   * killSignal to every spawned process group, SIGKILL after closeGrace, waits for the exits and
   * removes the socket files. Idempotent.
   */
  close (): Promise<void> {
    this.closing ??= this.shutdown(true)
    return this.closing
  }

  /** For the process 'exit' handler: nothing asynchronous can run any more. */
  killNowSync (): void {
    for (const proc of this.owned) {
      if (proc.pid !== undefined && proc.child !== undefined) {
        proc.stopping = true
        signalGroup(proc.pid, proc.host.killSignal)
      }
      if (proc.ownsSocket && proc.address.kind === 'unix') {
        unlinkSocketSync(proc.address.path)
        proc.ownsSocket = false
      }
    }
  }

  // ---- internals ----

  private newBackoff (): Backoff {
    return new Backoff(this.timing.backoffInitial, this.timing.backoffMax)
  }

  private adoptProc (proc: PoolProc): PoolProc {
    this.owned.add(proc)
    return proc
  }

  private own (proc: Proc): PoolProc | undefined {
    return proc instanceof PoolProc && this.owned.has(proc) ? proc : undefined
  }

  private describe (proc: PoolProc): string {
    const name = proc.name === '' ? 'backend' : `backend '${proc.name}'`
    return `${name} (${proc.host.mappingKeys.join(', ')}) at ${formatAddress(proc.address)}`
  }

  private logFields (proc: PoolProc): { backend: string, address: string, pid?: number } {
    const fields: { backend: string, address: string, pid?: number } = { backend: proc.name, address: formatAddress(proc.address) }
    if (proc.pid !== undefined) fields.pid = proc.pid
    return fields
  }

  private debugProcs (msg: string, proc: PoolProc): void {
    const procs = proc.host.procs.filter((p) => p !== undefined).map((p) => p.debugLine()).sort((a, b) => a.load - b.load)
    this.logger.debug({ ...this.logFields(proc), load: proc.load, procs }, msg)
  }

  private bestProc (host: Host, exclude: ReadonlySet<Proc> | undefined): PoolProc | undefined {
    let best: PoolProc | undefined
    for (const proc of host.procs) {
      if (proc === undefined || proc.state !== 'running' || exclude?.has(proc) === true) continue
      if (best === undefined || proc.load < best.load) best = proc
    }
    return best
  }

  /** Hosts and processes as plain data (the status page joins them with the request metrics). */
  snapshot (): PoolSnapshot {
    const hosts = [...this.hosts.values()].map((host) => ({
      name: host.name,
      address: host.key,
      mappingKeys: [...host.mappingKeys],
      load: host.load,
      procs: host.procs.filter((p) => p !== undefined).map((p) => p.info())
    }))
    return { requests: this.requests, activeRequests: this.active, hosts }
  }

  private disable (proc: PoolProc, state: 'disabled' | 'overloaded', outcome: ConnectOutcome): void {
    // a second failing request for a process already out of rotation changes nothing
    if (proc.state !== 'running' || this.phase === 'closing') return
    const disableTime = proc.host.spec.disableTime
    proc.state = state
    proc.counters.disabled++
    proc.disabledUntil = Date.now() + disableTime
    if (proc.timer !== undefined) clearTimeout(proc.timer)
    proc.timer = setTimeout(() => this.enable(proc), disableTime)
    proc.timer.unref()
    const reason = state === 'overloaded' ? 'overloaded' : 'failed'
    this.logger.warn({ ...this.logFields(proc), outcome, disableTime },
      state === 'overloaded'
        ? 'FastCGI backend overloaded; not sending it requests for disableTime'
        : 'FastCGI backend connect failed; disabled for disableTime, requests go to other backends')
    this.emit('disabled', { name: proc.name, address: formatAddress(proc.address), until: proc.disabledUntil, reason })
  }

  private enable (proc: PoolProc): void {
    proc.timer = undefined
    if (proc.state !== 'disabled' && proc.state !== 'overloaded') return
    proc.state = 'running'
    this.logger.info(this.logFields(proc), 'FastCGI backend re-enabled')
    this.emit('enabled', { name: proc.name, address: formatAddress(proc.address) })
  }

  private spawnProc (proc: PoolProc): Promise<void> {
    const pending = this.doSpawn(proc).finally(() => this.pendingSpawns.delete(pending))
    this.pendingSpawns.add(pending)
    return pending
  }

  private shuttingDown (): boolean {
    return this.phase === 'closing' || this.phase === 'closed'
  }

  private async doSpawn (proc: PoolProc): Promise<void> {
    const spec = proc.host.spec
    if (spec.binPath === undefined) return
    proc.state = 'starting'
    proc.startFailure = undefined
    proc.stopping = false
    const address = formatAddress(proc.address)
    try {
      const command = (() => {
        try {
          return childCommand(spec.binPath)
        } catch (err) {
          throw new SpawnProblem(err instanceof Error ? err.message : String(err))
        }
      })()
      await checkExecutable(command.file)
      const probe = await probeAddress(proc.address, this.timing.probeTimeout)
      if (this.shuttingDown()) {
        proc.state = 'stopped'
        return
      }
      if (probe.kind === 'taken') throw new SpawnProblem(`${address} is taken: ${probe.detail}`)
      if (probe.kind === 'fastcgi') {
        // lighttpd: "socket is already used; won't spawn" -- the address is served, use it
        proc.isLocal = false
        proc.state = 'running'
        this.logger.info(this.logFields(proc), 'FastCGI backend address already answers; using it instead of spawning')
        return
      }
      if (probe.kind === 'stale' && proc.address.kind === 'unix') unlinkSocketSync(proc.address.path)
      proc.isLocal = true
      const env = childEnvironment(process.env, spec.binCopyEnvironment, spec.binEnvironment)
      let child: ChildProcess
      let running: Promise<void>
      try {
        [child, running] = await withListeningSocket(proc.address, spec.listenBacklog, (fd) => {
          proc.ownsSocket = proc.address.kind === 'unix'
          const spawned = spawnBackendProcess(command, env, fd)
          // 'spawn' / 'error' are emitted on the next tick: listen before anything awaits
          const result: [ChildProcess, Promise<void>] = [spawned, whenSpawned(spawned)]
          result[1].catch(() => {})
          this.watchChild(proc, spawned)
          return result
        })
      } catch (err) {
        if (err instanceof SpawnProblem) throw err
        throw new SpawnProblem(describeListenError(err, proc.address))
      }
      try {
        await running
      } catch (err) {
        throw new SpawnProblem(`cannot execute ${command.file}: ${err instanceof Error ? err.message : String(err)}`)
      }
      if (proc.child !== child || child.pid === undefined) {
        // exited before we got here; the exit handler has already taken care of the state
        return
      }
      proc.pid = child.pid
      proc.startedAt = Date.now()
      proc.lastUsed = proc.startedAt
      proc.spawnFailing = false
      if (!this.shuttingDown()) proc.state = 'running'
      proc.stableTimer = setTimeout(() => this.stable(proc, child), this.timing.stableAfter)
      proc.stableTimer.unref()
      if (this.options.debug) this.logger.debug({ ...this.logFields(proc), file: command.file }, 'spawned FastCGI backend')
      this.emit('spawned', { name: proc.name, pid: child.pid, address })
    } catch (err) {
      this.abandonChild(proc)
      if (proc.state === 'starting') proc.state = 'died'
      throw err
    }
  }

  /** A child that is of no use (spawn failed half-way): kill it and remove its socket file. */
  private abandonChild (proc: PoolProc): void {
    const child = proc.child
    if (child !== undefined) {
      proc.stopping = true
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
    }
    if (proc.ownsSocket && proc.address.kind === 'unix') {
      unlinkSocketSync(proc.address.path)
      proc.ownsSocket = false
    }
  }

  private watchChild (proc: PoolProc, child: ChildProcess): void {
    this.ensureGuard()
    proc.child = child
    proc.pid = child.pid
    if (child.pid !== undefined) this.groups.add(child.pid)
    proc.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(proc, child, code, signal)
        resolve()
      })
      child.once('error', () => {
        // spawn failure: there will be no 'exit'
        if (child.pid === undefined) {
          if (proc.child === child) {
            proc.child = undefined
            proc.pid = undefined
          }
          resolve()
        }
      })
    })
    const pid = child.pid
    forwardStderr(child, (line) => {
      const fields = { backend: proc.name, address: formatAddress(proc.address), pid }
      // a crash loop repeats the same complaint on every attempt; the first ones were logged
      if (proc.quickExits < 2) this.logger.warn(fields, line)
      else if (this.options.debug) this.logger.debug(fields, line)
    })
  }

  /** from the first spawned process until close() has reaped the last one */
  private ensureGuard (): void {
    if (this.guarded) return
    this.guarded = true
    guard(this)
  }

  private stable (proc: PoolProc, child: ChildProcess): void {
    proc.stableTimer = undefined
    if (proc.child !== child) return
    if (proc.quickExits >= 2) this.logger.info(this.logFields(proc), 'FastCGI backend process is running steadily again')
    proc.quickExits = 0
    proc.backoff.reset()
  }

  private onExit (proc: PoolProc, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.child !== child) return
    const pid = child.pid
    proc.child = undefined
    proc.pid = undefined
    if (proc.stableTimer !== undefined) clearTimeout(proc.stableTimer)
    proc.stableTimer = undefined
    // php-cgi workers outlive a SIGKILLed master and would keep serving the old socket
    if (pid !== undefined) signalGroup(pid, 'SIGKILL')
    const expected = proc.stopping
    proc.stopping = false
    if (pid !== undefined) this.emit('exited', { name: proc.name, pid, code, signal })
    if (this.phase === 'starting') {
      proc.state = 'died'
      proc.startFailure = `the process exited right after it was started (${describeExit(code, signal)})`
      return
    }
    if (expected || this.shuttingDown()) {
      proc.state = 'stopped'
      return
    }
    if (proc.timer !== undefined) clearTimeout(proc.timer)
    proc.state = 'died'
    proc.counters.died++
    proc.quickExits++
    this.scheduleRespawn(proc)
    const fields = { ...this.logFields(proc), pid, code, signal, retryIn: proc.respawnAt - Date.now() }
    if (proc.quickExits === 1) {
      this.logger.warn(fields, `FastCGI backend process exited (${describeExit(code, signal)}); respawning`)
    } else if (proc.quickExits === 2) {
      this.logger.error({ ...fields, maxBackoff: this.timing.backoffMax },
        'FastCGI backend process keeps exiting soon after start; respawning with back-off (further exits are not logged)')
    } else if (this.options.debug) {
      this.logger.debug(fields, 'FastCGI backend process exited again')
    }
  }

  private scheduleRespawn (proc: PoolProc): void {
    const wait = proc.backoff.next()
    proc.respawnAt = Date.now() + wait
    proc.timer = setTimeout(() => this.respawn(proc), wait)
    proc.timer.unref()
  }

  private respawn (proc: PoolProc): void {
    proc.timer = undefined
    if (this.shuttingDown() || proc.state !== 'died') return
    const quiet = proc.quickExits >= 2
    this.spawnProc(proc).then(() => {
      if (!quiet && proc.state === 'running') this.logger.info(this.logFields(proc), 'FastCGI backend process respawned')
    }, (err: unknown) => {
      if (this.shuttingDown()) return
      proc.state = 'died'
      proc.counters.died++
      if (!proc.spawnFailing) {
        proc.spawnFailing = true
        this.logger.error({ ...this.logFields(proc), err: err instanceof Error ? err.message : String(err) },
          'FastCGI backend cannot be respawned; retrying with back-off (further failures are not logged)')
      }
      this.scheduleRespawn(proc)
    })
  }

  /** minProcs 0: the first request for a backend with no process starts one (lighttpd §7.6). */
  private spawnOnDemand (hosts: readonly Host[]): void {
    if (this.phase !== 'running') return
    for (const host of hosts) {
      if (!host.spawns || host.procs.some((p) => p !== undefined && p.state !== 'stopped')) continue
      this.startSlot(host)
    }
  }

  /** Spawns the lowest free process slot of a host, for adaptive or on-demand spawning. */
  private startSlot (host: Host): void {
    let id = 0
    while (host.procs[id] !== undefined && host.procs[id]?.state !== 'stopped') id++
    if (id >= host.spec.maxProcs) return
    const proc = this.adoptProc(host.slot(id, () => this.newBackoff()))
    if (proc.child !== undefined) return // an idle-killed process that has not exited yet
    if (this.options.debug) this.logger.debug(this.logFields(proc), 'spawning an additional FastCGI backend process')
    this.spawnProc(proc).catch((err: unknown) => {
      if (this.shuttingDown()) return
      proc.state = 'died'
      if (!proc.spawnFailing) {
        proc.spawnFailing = true
        this.logger.error({ ...this.logFields(proc), err: err instanceof Error ? err.message : String(err) },
          'FastCGI backend process cannot be started; retrying with back-off (further failures are not logged)')
      }
      this.scheduleRespawn(proc)
    })
  }

  /** Adaptive spawning and idle timeout (lighttpd §7.6), once per maintenanceInterval. */
  private maintain (): void {
    if (this.phase !== 'running') return
    const now = Date.now()
    for (const pgid of this.groups) {
      // cheap check only; groupsGone() at close looks closer
      if (!signalGroup(pgid, 0)) this.groups.delete(pgid)
    }
    for (const host of this.hosts.values()) {
      const { minProcs, maxProcs, maxLoadPerProc, idleTimeout } = host.spec
      if (!host.spawns || minProcs >= maxProcs) continue
      const procs = host.procs.filter((p) => p !== undefined)
      const inUse = procs.filter((p) => p.state !== 'stopped')
      const running = procs.filter((p) => p.state === 'running')
      if (procs.some((p) => p.state === 'starting')) continue
      if (running.length > 0 && running.every((p) => p.load > maxLoadPerProc) && inUse.length < maxProcs) {
        if (this.options.debug) this.logger.debug({ backend: host.name }, 'overload detected, spawning a new child')
        this.startSlot(host)
        continue
      }
      if (inUse.length <= minProcs) continue
      const idle = running
        .filter((p) => p.isLocal && p.load === 0 && now - p.lastUsed > idleTimeout)
        .sort((a, b) => b.id - a.id)[0]
      if (idle !== undefined) this.stopIdle(idle)
    }
  }

  private stopIdle (proc: PoolProc): void {
    const child = proc.child
    if (child?.pid === undefined) return
    if (this.options.debug) this.logger.debug(this.logFields(proc), 'idle-timeout reached, terminating child')
    proc.stopping = true
    proc.state = 'stopped'
    if (proc.stableTimer !== undefined) clearTimeout(proc.stableTimer)
    proc.stableTimer = undefined
    signalGroup(child.pid, proc.host.killSignal)
    // lighttpd never escalates for idle kills; a child ignoring killSignal must not linger
    const pid = child.pid
    const escalate = setTimeout(() => {
      if (proc.child === child) signalGroup(pid, 'SIGKILL')
    }, this.closeGrace)
    escalate.unref()
  }

  /**
   * Waits (bounded) until no process of any group we spawned is left: the workers of a php-cgi
   * master are not our children, so their end is only visible as the group becoming empty.
   */
  private async groupsGone (ms: number): Promise<void> {
    const deadline = Date.now() + ms
    for (const pgid of this.groups) {
      while (groupExists(pgid) && Date.now() < deadline) {
        signalGroup(pgid, 'SIGKILL')
        await delay(10)
      }
      if (!groupExists(pgid)) this.groups.delete(pgid)
    }
  }

  private waitDrain (ms: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true)
    let resolveDrain: () => void = () => {}
    const drained = new Promise<void>((resolve) => {
      resolveDrain = resolve
    })
    this.drainWaiters.add(resolveDrain)
    return within(drained, ms).finally(() => this.drainWaiters.delete(resolveDrain))
  }

  private async shutdown (drain: boolean): Promise<void> {
    this.phase = 'closing'
    if (this.maintenance !== undefined) clearInterval(this.maintenance)
    this.maintenance = undefined
    for (const proc of this.owned) proc.clearTimers()
    await Promise.allSettled([...this.pendingSpawns])
    if (drain) await this.waitDrain(this.closeGrace)
    const live = [...this.owned].filter((p) => p.child !== undefined)
    for (const proc of live) {
      proc.stopping = true
      if (proc.pid !== undefined) signalGroup(proc.pid, proc.host.killSignal)
    }
    await within(Promise.all(live.map(async (p) => await p.exited)), this.closeGrace)
    const stubborn = live.filter((p) => p.child !== undefined)
    for (const proc of stubborn) {
      if (proc.child?.pid !== undefined) signalGroup(proc.child.pid, 'SIGKILL')
    }
    if (stubborn.length > 0) {
      this.logger.warn({ pids: stubborn.map((p) => p.child?.pid) }, 'FastCGI backend processes ignored killSignal; sent SIGKILL')
      await within(Promise.all(stubborn.map(async (p) => await p.exited)), SIGKILL_WAIT)
    }
    await this.groupsGone(SIGKILL_WAIT)
    for (const proc of this.owned) {
      if (proc.ownsSocket && proc.address.kind === 'unix') unlinkSocketSync(proc.address.path)
      proc.ownsSocket = false
      proc.state = 'stopped'
    }
    this.phase = 'closed'
    if (this.guarded) {
      this.guarded = false
      unguard(this)
    }
  }
}

