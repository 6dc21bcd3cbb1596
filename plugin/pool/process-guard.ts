// Makes sure the Node process does not leave spawned backends or their socket files behind when
// it exits or is told to stop by SIGTERM / SIGINT. Handlers are installed only while some pool
// has spawned processes: merely loading the plugin must not change how the process reacts to
// signals.

export interface Guarded {
  /** kill every spawned process and remove socket files, synchronously (process 'exit') */
  killNowSync (): void
  /** the normal, graceful close */
  close (): Promise<void>
}

const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']

const members = new Set<Guarded>()
const inProgress = new Set<NodeJS.Signals>()
let installed = false

function onExit (): void {
  for (const member of members) member.killNowSync()
}

function emitterCount (holder: object, key: string | symbol): number {
  const emitter: unknown = Reflect.get(holder, key)
  if (typeof emitter !== 'object' || emitter === null) return 0
  const count: unknown = Reflect.get(emitter, 'count')
  return typeof count === 'number' ? count : 0
}

/**
 * Listeners that would really handle the signal. signal-exit (v3 and v4, loaded by many tools)
 * listens too but stands aside whenever anyone else listens, and relies on the convention that
 * its listeners number its published `count`; counting it as a handler would leave nobody to
 * end the process.
 */
function handlingListeners (signal: NodeJS.Signals): number {
  const signalExit = emitterCount(globalThis, Symbol.for('signal-exit emitter')) +
    emitterCount(process, '__signal_exit_emitter__')
  return Math.max(0, process.listenerCount(signal) - signalExit)
}

function finish (signal: NodeJS.Signals): void {
  inProgress.delete(signal)
  if (!installed) process.removeListener(signal, onSignal)
  // Another listener already ran for this delivery and owns the decision to exit; with nobody
  // else listening, the default action (terminate) is what the sender asked for, and a
  // signal-exit listener, now alone, runs its exit hooks and terminates.
  if (handlingListeners(signal) === 0) process.kill(process.pid, signal)
}

function onSignal (signal: NodeJS.Signals): void {
  if (inProgress.has(signal)) {
    // asked twice: stop waiting for graceful shutdown
    for (const member of [...members]) member.killNowSync()
    finish(signal)
    return
  }
  inProgress.add(signal)
  Promise.allSettled([...members].map(async (member) => await member.close()))
    .then(() => finish(signal), () => finish(signal))
}

function install (): void {
  if (installed) return
  installed = true
  process.on('exit', onExit)
  for (const signal of HANDLED_SIGNALS) {
    if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal)
  }
}

function uninstall (): void {
  if (!installed) return
  installed = false
  process.removeListener('exit', onExit)
  // a signal whose cleanup is still running keeps its handler until finish() re-raises it
  for (const signal of HANDLED_SIGNALS) {
    if (!inProgress.has(signal)) process.removeListener(signal, onSignal)
  }
}

export function guard (member: Guarded): void {
  members.add(member)
  install()
}

export function unguard (member: Guarded): void {
  members.delete(member)
  if (members.size === 0) uninstall()
}

/** for tests: whether handlers are currently installed */
export function guardInstalled (): boolean {
  return installed
}
