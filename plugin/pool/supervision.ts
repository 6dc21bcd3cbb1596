// Process supervision (lighttpd reference 1.5, 7): spawning a backend's processes on sockets the
// pool creates, watching them, respawning with back-off, adaptive spawning and idle stops,
// taking a process out of rotation for disableTime, and the bounded shutdown. It never chooses
// where a request goes: BackendPool does, over the hosts kept here.
import type { EventEmitter } from 'node:events'
import type { ChildProcess } from 'node:child_process'
import { formatAddress } from '../client/address'
import { BackendStartError, InvalidOptionError } from '../errors'
import { childCommand, childEnvironment } from './child-env'
import { Host, PoolProc } from './host'
import { probeAddress, unlinkSocketSync, withListeningSocket } from './listen-socket'
import { guard, unguard, type Guarded } from './process-guard'
import { Backoff, forwardStderr, groupExists, normalizeSignal, signalGroup, spawnBackendProcess, whenSpawned } from './process-supervisor'
import { SpawnProblem, checkExecutable, delay, describeExit, describeListenError, within } from './spawn-problems'
import { firstStartFailure } from './start-check'
import type { BackendPoolOptions, BackendSpec, PoolEventMap, PoolLogger, PoolTiming } from './types'

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

export type Phase = 'new' | 'starting' | 'running' | 'closing' | 'closed'

export class Supervision<S extends BackendSpec, C> {
  readonly hosts = new Map<string, Host<S, C>>()
  private readonly owned = new Set<PoolProc<S, C>>()
  private readonly pendingSpawns = new Set<Promise<void>>()
  /** process groups we created (a spawned child leads its own); pruned once found empty */
  private readonly groups = new Set<number>()
  private readonly logger: PoolLogger
  private readonly timing: PoolTiming
  private readonly closeGrace: number
  private readonly debug: boolean
  private readonly connect: BackendPoolOptions<S, C>['connect']
  private readonly probeStarted: boolean
  private current: Phase = 'new'
  private maintenance: NodeJS.Timeout | undefined
  private starting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private isGuarded = false

  constructor (
    options: BackendPoolOptions<S, C>,
    /** the pool: its events are emitted from here */
    private readonly events: EventEmitter<PoolEventMap>,
    /** what the process guard closes on SIGTERM / kills on exit: the pool */
    private readonly owner: Guarded
  ) {
    this.logger = options.logger
    this.timing = { ...DEFAULT_TIMING, ...options.timing }
    this.closeGrace = options.closeGrace ?? 5000
    this.debug = options.debug
    this.connect = options.connect
    this.probeStarted = options.probeStarted ?? true
  }

  get phase (): Phase {
    return this.current
  }

  owns (proc: PoolProc<S, C>): boolean {
    return this.owned.has(proc)
  }


  /**
   * Two specs naming the same address are one host (one load, one set of processes), whatever
   * their mapping keys; the one with binPath decides how it is spawned.
   */
  addHost (spec: S): Host<S, C> {
    if (this.current !== 'new') throw new InvalidOptionError('backends can only be added before start()')
    let killSignal: NodeJS.Signals | number
    try {
      killSignal = normalizeSignal(spec.killSignal)
    } catch (err) {
      throw new InvalidOptionError(`killSignal of backend '${spec.name}': ${err instanceof Error ? err.message : String(err)}`)
    }
    const key = formatAddress(spec.address)
    let host = this.hosts.get(key)
    if (host === undefined) {
      host = new Host<S, C>(key, spec, killSignal, this.connect)
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
    host.entries.push(spec)
    if (!host.mappingKeys.includes(spec.mappingKey)) host.mappingKeys.push(spec.mappingKey)
    return host
  }

  /** Spawns minProcs processes of every binPath backend; on any failure, undoes everything. */
  start (): Promise<void> {
    this.starting ??= this.doStart()
    return this.starting
  }


  private async doStart (): Promise<void> {
    if (this.current !== 'new') throw new BackendStartError('the pool was closed before it started')
    this.current = 'starting'
    let current: PoolProc<S, C> | undefined
    try {
      const spawned: PoolProc<S, C>[] = []
      for (const host of this.hosts.values()) {
        if (!host.spawns) continue
        const count = Math.min(host.spec.minProcs, host.spec.maxProcs)
        for (let id = 0; id < count; id++) {
          current = this.adoptProc(host.slot(id, () => this.newBackoff()))
          await this.spawnProc(current)
          spawned.push(current)
        }
      }
      // every process at once, each within its connectTimeout (start-check.ts)
      const failure = await firstStartFailure(spawned.filter((proc) => proc.isLocal), this.timing.startCheck, this.probeStarted)
      current = failure?.proc
      if (failure !== undefined) throw new SpawnProblem(failure.problem)
    } catch (err) {
      this.closing = this.shutdown(undefined)
      await this.closing
      const cause = err instanceof Error ? err.message : String(err)
      const error = new BackendStartError(current === undefined ? cause : `${current.describe()}: ${cause}`)
      if (!(err instanceof SpawnProblem)) error.cause = err
      throw error
    }
    this.current = 'running'
    this.maintenance = setInterval(() => this.maintain(), this.timing.maintenanceInterval)
    this.maintenance.unref()
  }

  /**
   * Stops the maintenance, lets `drain` wait for requests in flight (up to closeGrace), sends
   * killSignal to every spawned process group, SIGKILL after closeGrace, waits for the exits and
   * removes the socket files. Idempotent.
   */
  close (drain: (ms: number) => Promise<boolean>): Promise<void> {
    this.closing ??= this.shutdown(drain)
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

  private newBackoff (): Backoff {
    return new Backoff(this.timing.backoffInitial, this.timing.backoffMax)
  }

  private adoptProc (proc: PoolProc<S, C>): PoolProc<S, C> {
    this.owned.add(proc)
    return proc
  }

  private spawnProc (proc: PoolProc<S, C>): Promise<void> {
    const pending = this.doSpawn(proc).finally(() => this.pendingSpawns.delete(pending))
    this.pendingSpawns.add(pending)
    return pending
  }

  shuttingDown (): boolean {
    return this.current === 'closing' || this.current === 'closed'
  }

  private async doSpawn (proc: PoolProc<S, C>): Promise<void> {
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
      await checkExecutable(command.file, spec.binPath[0])
      const probe = await probeAddress(proc.address, this.timing.probeTimeout)
      // whatever a previous life created is gone now (stale, unlinked below) or is no longer
      // ours to remove: another server answering there, or a file that is not a socket
      if (probe.kind !== 'stale') proc.ownsSocket = false
      if (this.shuttingDown()) {
        proc.state = 'stopped'
        return
      }
      if (probe.kind === 'taken') throw new SpawnProblem(`${address} is taken: ${probe.detail}`)
      if (probe.kind === 'fastcgi') {
        // lighttpd: "socket is already used; won't spawn" -- the address is served, use it
        proc.isLocal = false
        proc.state = 'running'
        this.logger.info(proc.logFields(), 'FastCGI backend address already answers; using it instead of spawning')
        return
      }
      if (probe.kind === 'stale' && proc.address.kind === 'unix') {
        unlinkSocketSync(proc.address.path)
        proc.ownsSocket = false
      }
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
      if (this.debug) this.logger.debug({ ...proc.logFields(), file: command.file }, 'spawned FastCGI backend')
      this.events.emit('spawned', { name: proc.name, pid: child.pid, address })
    } catch (err) {
      proc.abandonChild()
      if (proc.state === 'starting') proc.state = 'died'
      throw err
    }
  }

  private watchChild (proc: PoolProc<S, C>, child: ChildProcess): void {
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
    const fields = { backend: proc.name, address: formatAddress(proc.address), pid }
    forwardStderr(child, (msg, extra) => {
      // a crash loop repeats the same complaint on every attempt; the first ones were logged
      if (proc.quickExits < 2) this.logger.warn(extra === undefined ? fields : { ...fields, ...extra }, msg)
      else if (this.debug) this.logger.debug(extra === undefined ? fields : { ...fields, ...extra }, msg)
    })
  }

  /** from the first spawned process until close() has reaped the last one */
  private ensureGuard (): void {
    if (this.isGuarded) return
    this.isGuarded = true
    guard(this.owner)
  }

  private stable (proc: PoolProc<S, C>, child: ChildProcess): void {
    proc.stableTimer = undefined
    if (proc.child !== child) return
    if (proc.quickExits >= 2) this.logger.info(proc.logFields(), 'FastCGI backend process is running steadily again')
    proc.quickExits = 0
    proc.backoff.reset()
  }

  private onExit (proc: PoolProc<S, C>, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
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
    if (pid !== undefined) this.events.emit('exited', { name: proc.name, pid, code, signal })
    if (this.current === 'starting') {
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
    const fields = { ...proc.logFields(), pid, code, signal, retryIn: proc.respawnAt - Date.now() }
    if (proc.quickExits === 1) {
      this.logger.warn(fields, `FastCGI backend process exited (${describeExit(code, signal)}); respawning`)
    } else if (proc.quickExits === 2) {
      this.logger.error({ ...fields, maxBackoff: this.timing.backoffMax },
        'FastCGI backend process keeps exiting soon after start; respawning with back-off (further exits are not logged)')
    } else if (this.debug) {
      this.logger.debug(fields, 'FastCGI backend process exited again')
    }
  }

  private scheduleRespawn (proc: PoolProc<S, C>): void {
    const wait = proc.backoff.next()
    proc.respawnAt = Date.now() + wait
    proc.timer = setTimeout(() => this.respawn(proc), wait)
    proc.timer.unref()
  }

  private respawn (proc: PoolProc<S, C>): void {
    proc.timer = undefined
    if (this.shuttingDown() || proc.state !== 'died') return
    const quiet = proc.quickExits >= 2
    this.spawnProc(proc).then(() => {
      if (!quiet && proc.state === 'running') this.logger.info(proc.logFields(), 'FastCGI backend process respawned')
    }, (err: unknown) => {
      if (this.shuttingDown()) return
      proc.state = 'died'
      proc.counters.died++
      if (!proc.spawnFailing) {
        proc.spawnFailing = true
        this.logger.error({ ...proc.logFields(), err: err instanceof Error ? err.message : String(err) },
          'FastCGI backend cannot be respawned; retrying with back-off (further failures are not logged)')
      }
      this.scheduleRespawn(proc)
    })
  }

  /** minProcs 0: the first request for a backend with no process starts one (lighttpd §7.6). */
  spawnOnDemand (hosts: ReadonlyArray<Host<S, C>>): void {
    if (this.current !== 'running') return
    for (const host of hosts) {
      if (!host.spawns || host.procs.some((p) => p !== undefined && p.state !== 'stopped')) continue
      this.startSlot(host)
    }
  }

  /** Spawns the lowest free process slot of a host, for adaptive or on-demand spawning. */
  private startSlot (host: Host<S, C>): void {
    let id = 0
    while (host.procs[id] !== undefined && host.procs[id]?.state !== 'stopped') id++
    if (id >= host.spec.maxProcs) return
    const proc = this.adoptProc(host.slot(id, () => this.newBackoff()))
    if (proc.child !== undefined) return // an idle-killed process that has not exited yet
    if (this.debug) this.logger.debug(proc.logFields(), 'spawning an additional FastCGI backend process')
    this.spawnProc(proc).catch((err: unknown) => {
      if (this.shuttingDown()) return
      proc.state = 'died'
      if (!proc.spawnFailing) {
        proc.spawnFailing = true
        this.logger.error({ ...proc.logFields(), err: err instanceof Error ? err.message : String(err) },
          'FastCGI backend process cannot be started; retrying with back-off (further failures are not logged)')
      }
      this.scheduleRespawn(proc)
    })
  }

  /** Adaptive spawning and idle timeout (lighttpd §7.6), once per maintenanceInterval. */
  private maintain (): void {
    if (this.current !== 'running') return
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
        if (this.debug) this.logger.debug({ backend: host.name }, 'overload detected, spawning a new child')
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

  private stopIdle (proc: PoolProc<S, C>): void {
    const child = proc.child
    if (child?.pid === undefined) return
    if (this.debug) this.logger.debug(proc.logFields(), 'idle-timeout reached, terminating child')
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

  private async shutdown (drain: ((ms: number) => Promise<boolean>) | undefined): Promise<void> {
    this.current = 'closing'
    if (this.maintenance !== undefined) clearInterval(this.maintenance)
    this.maintenance = undefined
    for (const proc of this.owned) proc.clearTimers()
    await Promise.allSettled([...this.pendingSpawns])
    if (drain !== undefined) await drain(this.closeGrace)
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
    this.current = 'closed'
    if (this.isGuarded) {
      this.isGuarded = false
      unguard(this.owner)
    }
  }
}
