// Starting, signalling and watching one backend process, and the back-off between respawns.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import type { ChildCommand } from './child-env'

/**
 * Spawns the backend with the listening socket as fd 0, no shell, stdout discarded (a FastCGI
 * application writes to its socket) and stderr piped so that it can be logged.
 *
 * `detached` makes the child the leader of its own process group: signals then go to the
 * group, so php-cgi's PHP_FCGI_CHILDREN workers die with their master even when the master is
 * SIGKILLed; left alone they would keep serving the old socket (and keep a TCP port taken).
 */
export function spawnBackendProcess (command: ChildCommand, env: Record<string, string>, fd: number): ChildProcess {
  return spawn(command.file, command.args, {
    cwd: command.cwd,
    env,
    stdio: [fd, 'ignore', 'pipe'],
    detached: true,
    windowsHide: true
  })
}

/** Resolves once the program is running (exec succeeded), rejects with the spawn error otherwise. */
export function whenSpawned (child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      child.off('spawn', onSpawn)
      reject(err)
    }
    child.once('spawn', onSpawn)
    child.once('error', onError)
  })
}

const MAX_STDERR_LINE = 16 * 1024
/** lines of one process's stderr logged a second; the rest are counted and summed up */
export const STDERR_LINES_PER_SECOND = 200
/**
 * characters of one process's stderr read a second; past that the pipe is left unread for the
 * rest of the second, so that a child flooding it waits on its own writes instead of taking the
 * gateway's event loop (lighttpd hands the child its error log's fd: the flood costs it nothing)
 */
export const STDERR_READ_PER_SECOND = 1024 * 1024
const STDERR_WINDOW = 1000

/** Takes a line of a child's stderr, or the summary of the lines dropped in a second (with `{ dropped }`). */
export type StderrSink = (message: string, extra?: { dropped: number }) => void

/**
 * Calls `sink` for each line the child writes to stderr, at most STDERR_LINES_PER_SECOND a
 * second, and once with a summary of the others when their second is over. A line
 * longer than MAX_STDERR_LINE is cut into pieces so that a child that never writes a newline
 * cannot grow our memory.
 */
function droppedSummary (count: number): string {
  return `FastCGI backend process wrote ${count} more stderr lines in one second than are logged (${STDERR_LINES_PER_SECOND} a second); they were dropped`
}

export function forwardStderr (child: ChildProcess, sink: StderrSink): void {
  const stream = child.stderr
  if (stream === null) return
  let pending = ''
  let windowStart = Date.now()
  let lines = 0
  let read = 0
  let dropped = 0
  let windowEnd: NodeJS.Timeout | undefined
  const endWindow = (): void => {
    windowEnd = undefined
    if (dropped > 0) sink(droppedSummary(dropped), { dropped })
    dropped = 0
    lines = 0
    read = 0
    windowStart = Date.now()
    if (stream.isPaused() && !stream.destroyed) stream.resume()
  }
  const waitForWindowEnd = (): void => {
    if (windowEnd !== undefined) return
    windowEnd = setTimeout(endWindow, Math.max(0, windowStart + STDERR_WINDOW - Date.now()))
    windowEnd.unref()
  }
  const emit = (line: string): void => {
    if (lines < STDERR_LINES_PER_SECOND) {
      lines++
      sink(line)
      return
    }
    dropped++
    waitForWindowEnd()
  }
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    if (windowEnd === undefined && Date.now() - windowStart >= STDERR_WINDOW) endWindow()
    pending += chunk
    let newline = pending.indexOf('\n')
    while (newline !== -1) {
      const line = pending.slice(0, newline).replace(/\r$/, '')
      if (line !== '') emit(line)
      pending = pending.slice(newline + 1)
      newline = pending.indexOf('\n')
    }
    while (pending.length > MAX_STDERR_LINE) {
      emit(pending.slice(0, MAX_STDERR_LINE))
      pending = pending.slice(MAX_STDERR_LINE)
    }
    read += chunk.length
    if (read >= STDERR_READ_PER_SECOND) {
      stream.pause()
      waitForWindowEnd()
    }
  })
  stream.on('end', () => {
    if (pending !== '') emit(pending)
    pending = ''
    clearTimeout(windowEnd)
    windowEnd = undefined
    if (dropped > 0) sink(droppedSummary(dropped), { dropped })
    dropped = 0
  })
  // the child going away is reported by 'exit'; a broken pipe here adds nothing
  stream.on('error', () => {})
}

function isSignalName (name: string): name is NodeJS.Signals {
  return name in osConstants.signals
}

/** Signal name ('SIGUSR1', 'usr1') or number as the configuration gives it. */
export function normalizeSignal (signal: NodeJS.Signals | number): NodeJS.Signals | number {
  if (typeof signal === 'number') return signal
  const upper = signal.toUpperCase()
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`
  if (!isSignalName(name)) throw new Error(`unknown signal ${signal}`)
  return name
}

/** Signals the whole process group of a backend we spawned; false when nothing is left in it. */
export function signalGroup (pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether a live process still belongs to process group `pgid`. Zombies do not count: orphaned
 * workers are reparented to pid 1, and not every pid 1 (container init shims) reaps them.
 */
export function groupExists (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
  } catch {
    return false
  }
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return true // no procfs: the kernel says the group exists, believe it
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // exited while we looked
    }
    // fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true
  }
  return false
}

/** Respawn delay: doubles after each exit, back to the start once a process has proved stable. */
export class Backoff {
  private current: number

  constructor (private readonly initial: number, private readonly max: number) {
    this.current = initial
  }

  /** the delay to use now; the following one will be twice as long, up to max */
  next (): number {
    const delay = this.current
    this.current = Math.min(this.current * 2, this.max)
    return delay
  }

  /** the delay next() would return, without consuming it */
  peek (): number {
    return this.current
  }

  reset (): void {
    this.current = this.initial
  }
}
